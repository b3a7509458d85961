def test_health_reports_database(api):
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
