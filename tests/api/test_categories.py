"""Categories, their spec definitions and their market figures, as the API promises them."""

import json
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "seed"
CATEGORIES = json.loads((SEED / "categories.json").read_text(encoding="utf-8"))
FIGURES = json.loads((SEED / "market_figures.json").read_text(encoding="utf-8"))
PAGE_KEYS = {"items", "total", "limit", "offset"}
FIGURE_FIELDS = ("category", "scope", "year", "metric", "value", "value_low", "value_high")
SHARE_METRICS = ["domestic_share", "domestic_share_units", "domestic_share_value"]


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def spec(key, kind="number", direction="higher_better", unit=None, critical=False):
    return {
        "key": key,
        "name_zh": f"{key} 中文",
        "name_en": key.replace("_", " "),
        "unit": unit,
        "kind": kind,
        "direction": direction,
        "critical": critical,
    }


def category_body(code="ftir", **overrides):
    body = {
        "code": code,
        "name_zh": "傅里叶变换红外光谱仪",
        "name_en": "FTIR spectrometer",
        "aliases": ["FTIR", "红外"],
        "parent": None,
        "specs": [
            spec("resolution_cm1", direction="lower_better", unit="cm-1", critical=True),
            spec("accessories", kind="set", direction="includes"),
        ],
    }
    return body | overrides


def figure_body(**overrides):
    body = {
        "category": "ftir",
        "year": 2024,
        "metric": "domestic_share_units",
        "value": 12.5,
        "unit": "%",
        "basis": "units",
        "source": {"publication": "仪器信息网", "title": "FTIR 市场报告", "date": "2024-05-01"},
    }
    return body | overrides


def create_category(api, **overrides):
    response = api.post("/categories", api.admin_token, json=category_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def pick(mapping, *keys):
    return tuple(mapping[k] for k in keys)


# --- listing and search -----------------------------------------------------------------------


def test_category_list_is_a_page_of_every_bundled_category_in_code_order(seeded):
    response = seeded.get("/categories")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert (body["total"], body["limit"], body["offset"]) == (len(CATEGORIES), 50, 0)
    assert [c["code"] for c in body["items"]] == sorted(c["code"] for c in CATEGORIES)


def test_category_list_pages_with_limit_and_offset(seeded):
    response = seeded.get("/categories", params={"limit": 3, "offset": 2})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (len(CATEGORIES), 3, 2)
    assert [c["code"] for c in body["items"]] == sorted(c["code"] for c in CATEGORIES)[2:5]


@pytest.mark.parametrize(
    "query",
    [
        "核磁",  # Chinese
        "NMR",  # English abbreviation
        "nuclear magnetic",  # English words
        "核磁共振谱仪",  # an alias only, not part of either name
        "benchtop nmr",  # an English alias, other case
        "hecigongzhen",  # full pinyin
        "he ci gong zhen",  # full pinyin with spaces
        "hcgz",  # pinyin initials
    ],
)
def test_category_search_finds_nmr_in_every_language(seeded, query):
    response = seeded.get("/categories", params={"q": query})
    assert response.status_code == 200
    body = response.json()
    assert [c["code"] for c in body["items"]] == ["nmr"]
    assert body["total"] == 1


def test_category_search_without_a_match_is_an_empty_page(seeded):
    response = seeded.get("/categories", params={"q": "不存在的仪器"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_parent_filter_lists_the_subcategories_of_em(seeded):
    response = seeded.get("/categories", params={"parent": "em"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(c["code"], c["parent"]) for c in items] == [("sem", "em"), ("tem", "em")]


# --- one category and its market ------------------------------------------------------------


def test_category_detail_has_its_spec_definitions_and_latest_figures(seeded):
    response = seeded.get("/categories/nmr")
    assert response.status_code == 200
    body = response.json()
    nmr = next(c for c in CATEGORIES if c["code"] == "nmr")
    assert pick(body, "code", "name_zh", "parent") == ("nmr", "核磁共振波谱仪", None)
    assert pick(body, "name_en", "aliases", "specs") == pick(nmr, "name_en", "aliases", "specs")
    assert list(body["market"]) == ["domestic_share_units"]
    assert body["market"]["domestic_share_units"]["value"] == 0.99


def test_category_detail_market_has_one_figure_per_metric(seeded):
    body = seeded.get("/categories/hplc").json()
    metrics = {f["metric"] for f in FIGURES if f["category"] == "hplc"}
    assert set(body["market"]) == metrics
    assert all(figure["metric"] == metric for metric, figure in body["market"].items())
    assert body["market"]["domestic_share"]["value"] == 20


def test_nmr_market_shows_the_sourced_domestic_share_by_units(seeded):
    response = seeded.get("/categories/nmr/market")
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (1, 50, 0)
    [figure] = body["items"]
    wanted = ("A1", "domestic_share_units", 0.99, "%", "units", 2021)
    assert pick(figure, "ref", "metric", "value", "unit", "basis", "year") == wanted
    publication = "阿仪网 (reprinted in 《浙江机械》 总第569期); reporting by 科技日报"
    assert figure["source"]["publication"] == publication
    assert figure["source"]["title"] == "科学仪器依赖进口 国产仪器需要创新"
    assert figure["source"]["quote"] == "以数量计算…国内供货量占比"


def test_every_bundled_figure_with_a_category_is_in_that_categorys_series(seeded):
    seen = {}
    for category in CATEGORIES:
        response = seeded.get(f"/categories/{category['code']}/market", params={"limit": 200})
        assert response.status_code == 200
        for figure in response.json()["items"]:
            seen[figure["ref"]] = figure
    expected = {f["ref"]: f for f in FIGURES if f["category"] is not None}
    assert set(seen) == set(expected)
    for ref, figure in seen.items():
        keys = (*FIGURE_FIELDS, "unit", "basis", "source")
        assert pick(figure, *keys) == pick(expected[ref], *keys), ref


def test_figures_wider_than_a_category_appear_under_no_category(seeded):
    wide = {f["ref"] for f in FIGURES if f["category"] is None}
    assert wide >= {"A4", "A5", "A10-usd", "A10-cny", "A15"}
    for category in CATEGORIES:
        items = seeded.get(f"/categories/{category['code']}/market").json()["items"]
        assert wide.isdisjoint(f["ref"] for f in items)


def test_em_keeps_the_leading_domestic_share_as_a_range_of_one_to_two_percent(seeded):
    items = seeded.get("/categories/em/market").json()["items"]
    a9 = next(f for f in items if f["ref"] == "A9")
    assert (a9["value_low"], a9["value"], a9["value_high"]) == (1, 1.5, 2)
    assert (a9["unit"], a9["scope"], a9["basis"]) == ("%", "中国 China", None)
    assert {f["ref"] for f in items} == {"A6", "A7", "A8", "A9"}


def test_hplc_vendor_counts_are_kept_per_region(seeded):
    items = seeded.get("/categories/hplc/market").json()["items"]
    counts = {f["scope"]: f["value"] for f in items if f["metric"] == "vendor_count"}
    assert counts == {"北美 North America": 6, "欧洲 Europe": 3, "日本 Japan": 3}


def test_unknown_category_is_not_found(seeded):
    assert_problem(seeded.get("/categories/no-such"), 404)
    assert_problem(seeded.get("/categories/no-such/market"), 404)


def test_series_is_newest_year_first_and_latest_means_latest_source_date(api):
    create_category(api)
    posted = [
        (2019, "2019-03-01"),
        (2021, "2022-06-01"),
        (2020, "2020-12-31"),
        (2021, "2022-01-15"),
    ]
    for year, date in posted:
        body = figure_body(year=year, value=year - 2000, source={"publication": "p", "title": "t"})
        body["source"]["date"] = date
        assert api.post("/market-figures", api.admin_token, json=body).status_code == 201
    series = api.get("/categories/ftir/market").json()["items"]
    assert [(f["year"], f["source"]["date"]) for f in series] == sorted(posted, reverse=True)
    latest = api.get("/categories/ftir").json()["market"]["domestic_share_units"]
    assert (latest["year"], latest["source"]["date"]) == (2021, "2022-06-01")


# --- admin writes ------------------------------------------------------------------------------


def test_admin_creates_a_category_with_its_specs(api):
    response = api.post("/categories", api.admin_token, json=category_body())
    assert response.status_code == 201, response.text
    body = response.json()
    wanted = category_body()
    assert {k: body[k] for k in wanted} == wanted
    detail = api.get("/categories/ftir").json()
    assert (detail["specs"], detail["market"]) == (wanted["specs"], {})
    found = api.get("/categories", params={"q": "hongwai"}).json()["items"]
    assert [c["code"] for c in found] == ["ftir"]


def test_category_codes_are_unique(api):
    create_category(api)
    assert_problem(api.post("/categories", api.admin_token, json=category_body()), 409)


def test_spec_direction_must_fit_its_kind(api):
    bad = category_body(specs=[spec("accessories", kind="set", direction="higher_better")])
    body = assert_problem(api.post("/categories", api.admin_token, json=bad), 400)
    assert body["errors"] and body["errors"][0]["field"].startswith("specs")
    assert_problem(api.get("/categories/ftir"), 404)


def test_only_an_admin_may_create_categories(api):
    purchaser = api.user("purchaser")
    assert_problem(api.post("/categories", purchaser, json=category_body()), 403)
    assert_problem(api.post("/categories", json=category_body()), 401)


def test_patching_specs_replaces_the_list(api):
    create_category(api)
    only = [spec("resolution_cm1", direction="lower_better", unit="cm-1", critical=True)]
    response = api.patch("/categories/ftir", api.admin_token, json={"specs": only})
    assert response.status_code == 200, response.text
    assert response.json()["specs"] == only
    assert api.get("/categories/ftir").json()["specs"] == only


def test_a_spec_that_products_use_cannot_be_removed(api):
    create_category(api)
    vendor = {"slug": "gangdong", "name_zh": "港东", "name_en": "Gangdong", "country": "CN"}
    assert api.post("/vendors", api.admin_token, json=vendor).status_code == 201
    product = {"vendor": "gangdong", "category": "ftir", "model": "FT-650", "name": "FT-650"}
    product |= {"made_in": "CN", "specs": {"resolution_cm1": 0.5}}
    assert api.post("/products", api.admin_token, json=product).status_code == 201
    only_accessories = [spec("accessories", kind="set", direction="includes")]
    response = api.patch("/categories/ftir", api.admin_token, json={"specs": only_accessories})
    assert_problem(response, 409)
    assert api.get("/categories/ftir").json()["specs"] == category_body()["specs"]


@pytest.mark.parametrize("parent", ["top", "middle", "bottom"])
def test_a_parent_that_would_make_a_cycle_is_a_400_and_nothing_changes(api, parent):
    for code, above in (("top", None), ("middle", "top"), ("bottom", "middle")):
        create_category(api, code=code, parent=above)
    response = api.patch("/categories/top", api.admin_token, json={"parent": parent})
    assert_problem(response, 400)
    parents = {c["code"]: c["parent"] for c in api.get("/categories").json()["items"]}
    assert parents == {"top": None, "middle": "top", "bottom": "middle"}


# --- market figures ----------------------------------------------------------------------------


def test_market_figure_without_a_source_is_rejected(api):
    create_category(api)
    body = figure_body()
    del body["source"]
    problem = assert_problem(api.post("/market-figures", api.admin_token, json=body), 400)
    assert [e["field"] for e in problem["errors"]] == ["source"]
    assert api.get("/categories/ftir/market").json()["total"] == 0


@pytest.mark.parametrize("metric", SHARE_METRICS)
@pytest.mark.parametrize("value", [140, -1])
def test_a_domestic_share_is_a_percentage_from_0_to_100(api, metric, value):
    create_category(api)
    body = figure_body(metric=metric, value=value)
    problem = assert_problem(api.post("/market-figures", api.admin_token, json=body), 400)
    assert any("value" in e["field"] or "value" in e["message"] for e in problem["errors"])
    assert api.get("/categories/ftir/market").json()["total"] == 0


def test_a_figure_without_category_needs_a_scope(api):
    body = figure_body(category=None, metric="import_value", value=1e9, unit="USD")
    problem = assert_problem(api.post("/market-figures", api.admin_token, json=body), 400)
    assert any("scope" in e["field"] or "scope" in e["message"] for e in problem["errors"])
    response = api.post("/market-figures", api.admin_token, json=body | {"scope": "全国 China"})
    assert response.status_code == 201, response.text
    assert (response.json()["category"], response.json()["scope"]) == (None, "全国 China")


@pytest.mark.parametrize(
    "range_",
    [
        {"value": 5, "value_low": 1, "value_high": 2},  # value outside the range
        {"value": 1.5, "value_low": 2, "value_high": 1},  # ends swapped
        {"value": 1.5, "value_low": 1},  # one end only
    ],
)
def test_a_range_must_be_consistent(api, range_):
    create_category(api)
    body = figure_body(metric="largest_domestic_vendor_share", **range_)
    assert_problem(api.post("/market-figures", api.admin_token, json=body), 400)
    assert api.get("/categories/ftir/market").json()["total"] == 0


def test_a_new_figure_joins_the_series_newest_first(api):
    create_category(api)
    older = api.post("/market-figures", api.admin_token, json=figure_body(year=2020, value=3))
    assert older.status_code == 201
    response = api.post("/market-figures", api.admin_token, json=figure_body(value=1.5))
    assert response.status_code == 201, response.text
    created = response.json()
    keys = ("category", "year", "metric", "value", "unit", "basis")
    assert pick(created, *keys) == pick(figure_body(value=1.5), *keys)
    assert created["source"]["publication"] == "仪器信息网"
    series = api.get("/categories/ftir/market").json()
    assert series["total"] == 2
    assert series["items"] == [created, older.json()]


def test_only_an_admin_may_add_market_figures(api):
    create_category(api)
    reviewer = api.user("reviewer")
    assert_problem(api.post("/market-figures", reviewer, json=figure_body()), 403)
    assert api.get("/categories/ftir/market").json()["total"] == 0
