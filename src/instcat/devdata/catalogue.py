"""Synthetic vendors and products: plain rows drawn from a seeded generator."""

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pypinyin import lazy_pinyin

from instcat.catalogue.schemas import ServiceIn, VendorCreate
from instcat.catalogue.specs import check_specs, index_rows
from instcat.catalogue.vendors import DOMESTIC_COUNTRY, vendor_search_text
from instcat.devdata import words
from instcat.devdata.base import ANCHOR, NOTE, SYNTHETIC_PREFIX
from instcat.devdata.specs import CategoryInfo
from instcat.errors import GenerateError
from instcat.models import Vendor
from instcat.text import search_text


@dataclass(slots=True)
class VendorPlan:
    id: int
    slug: str
    name_zh: str
    name_en: str
    short_en: str
    prefix: str
    country: str
    quality: float
    categories: list[int]
    products: int = 0

    @property
    def domestic(self) -> bool:
        return self.country == DOMESTIC_COUNTRY


def _moment(r: random.Random, max_days: int) -> datetime:
    return ANCHOR - timedelta(days=r.randint(0, max_days), seconds=r.randint(0, 86_399))


def plan_vendor(r: random.Random, vendor_id: int, number: int, domestic: bool) -> VendorPlan:
    """Names and identity of one synthetic vendor (its categories are set later)."""
    if domestic:
        brand = "".join(r.sample(words.BRAND_CHARS, 2))
        syllables = lazy_pinyin(brand)
        city_zh, _city = r.choice(words.CN_CITIES)
        suffix_zh, suffix_en = r.choice(words.CN_SUFFIXES)
        short = "".join(syllables).title()
        prefix = "".join(s[0] for s in syllables).upper() + r.choice("ADEFHKMSTX")
        return VendorPlan(
            vendor_id,
            f"{SYNTHETIC_PREFIX}{''.join(syllables)}-{number:05d}",
            f"{city_zh}{brand}{suffix_zh}",
            f"{short} {suffix_en}",
            short,
            prefix,
            DOMESTIC_COUNTRY,
            r.gauss(0.0, 0.08),
            [],
        )
    country, _w, _cities, legal = r.choices(
        words.FOREIGN_COUNTRIES, weights=[c[1] for c in words.FOREIGN_COUNTRIES]
    )[0]
    root = r.choice(words.FOREIGN_ROOTS) + r.choice(words.FOREIGN_TAILS)
    zh = "".join(r.sample(words.TRANSLIT, r.randint(2, 3))) + r.choice(["仪器", "科技", "分析"])
    return VendorPlan(
        vendor_id,
        f"{SYNTHETIC_PREFIX}{root.lower()}-{number:05d}",
        f"{zh}公司",
        f"{root} {r.choice(words.FOREIGN_WORDS)} {legal}",
        root,
        root[:2].upper() + r.choice("ELMQRTX"),
        country,
        r.gauss(0.0, 0.08),
        [],
    )


def vendor_row(r: random.Random, plan: VendorPlan) -> dict[str, Any]:
    """The vendor table row, checked against the API's VendorCreate rules."""
    if plan.domestic:
        city = next(en for zh, en in words.CN_CITIES if plan.name_zh.startswith(zh))
        regions = sorted(r.sample(words.PROVINCES, r.randint(3, 31)), key=words.PROVINCES.index)
        hours = r.choice([4, 8, 12, 24, 24, 48])
        founded = r.randint(1958, 2022)
    else:
        cities = next(c[2] for c in words.FOREIGN_COUNTRIES if c[0] == plan.country)
        city = r.choice(cities)
        regions = sorted(r.sample(words.PROVINCES, r.randint(2, 12)), key=words.PROVINCES.index)
        hours = r.choice([24, 48, 48, 72, 96])
        founded = r.randint(1850, 2015)
    data = VendorCreate(
        slug=plan.slug,
        name_zh=plan.name_zh,
        name_en=plan.name_en,
        country=plan.country,
        founded_year=founded,
        city=city,
        website=f"https://www.{plan.slug}.example",
        service=ServiceIn(regions=regions, response_hours=hours),
        certifications=r.sample(words.CERTIFICATIONS, r.randint(1, 3)),
        description=NOTE,
        illustrative=True,
    )
    created = _moment(r, 2500)
    vendor = Vendor(
        slug=data.slug,
        name_zh=data.name_zh,
        name_en=data.name_en,
        country=data.country,
        city=data.city,
    )
    return {
        "id": plan.id,
        "slug": data.slug,
        "name_zh": data.name_zh,
        "name_en": data.name_en,
        "country": data.country,
        "founded_year": data.founded_year,
        "city": data.city,
        "website": data.website,
        "service_regions": list(data.service.regions),
        "response_hours": data.service.response_hours,
        "certifications": list(data.certifications),
        "description": data.description,
        "source": None,
        "illustrative": True,
        "search_text": vendor_search_text(vendor),
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }


@lru_cache(maxsize=65_536)
def _pieces(part: str) -> str:
    return search_text([part])[1:-1]


def product_search_text(parts: Sequence[str | None]) -> str:
    """Exactly `search_text(parts)`, with each part's pinyin worked out once (vendor and
    category names repeat across thousands of products)."""
    return "|" + "|".join(_pieces(p) for p in parts if p) + "|"


@dataclass(slots=True)
class ProductFacts:
    """What the trial and feedback generators need to know about the products."""

    ids: list[int] = field(default_factory=list)
    vendor: list[int] = field(default_factory=list)
    category: list[int] = field(default_factory=list)
    domestic: list[bool] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)


def product_rows(
    r: random.Random,
    product_id: int,
    vendor: VendorPlan,
    category: CategoryInfo,
    sequence: int,
) -> tuple[dict[str, Any], list[tuple[str, float | None, str | None]], float]:
    """One product of `vendor` in `category` (its `sequence`-th): row, spec index rows, quality."""
    shape = (2.2, 2.8) if vendor.domestic else (5.0, 2.0)
    quality = min(1.0, max(0.0, r.betavariate(*shape) + vendor.quality))
    specs: dict[str, Any] = {}
    for model in category.models:
        if r.random() < (0.02 if model.critical else 0.12):
            continue  # specs may be incomplete: a missing key is "unknown"
        specs[model.key] = model.draw(r, quality)
    errors = check_specs(category.definitions, specs)
    if errors:
        raise GenerateError(f"generated specs do not fit {category.code}: {errors}")
    model_name = f"{vendor.prefix}-{category.code[0].upper()}{1000 + 7 * sequence}"
    name = f"{vendor.short_en} {model_name} {category.name_en}"
    # Some imported brands are made in China (what domestic_rule=manufacture looks at).
    made_in = vendor.country if vendor.domestic or r.random() < 0.85 else DOMESTIC_COUNTRY
    launch = r.randint(2008, 2026) if vendor.domestic else r.randint(2000, 2026)
    band = min(len(words.PRICE_BANDS) - 1, int(quality * 4) + (0 if vendor.domestic else 2))
    created = _moment(r, 1800)
    row = {
        "id": product_id,
        "vendor_id": vendor.id,
        "category_id": category.id,
        "model": model_name,
        "name": name,
        "specs": specs,
        "made_in": made_in,
        "launch_year": launch,
        "status": "discontinued" if r.random() < 0.04 + 0.01 * (2026 - launch) else "active",
        "price_band": words.PRICE_BANDS[band],
        "illustrative": True,
        "search_text": product_search_text(
            [
                model_name,
                name,
                vendor.name_zh,
                vendor.name_en,
                category.code,
                category.name_zh,
                category.name_en,
                *category.aliases,
            ]
        ),
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }
    return row, list(index_rows(specs)), quality


def assign_products(
    r: random.Random, vendors: list[VendorPlan], total: int, categories: list[CategoryInfo]
) -> Iterator[tuple[VendorPlan, CategoryInfo, int]]:
    """Spread `total` products over the vendors (a few big makers, many small ones)."""
    if not vendors or total <= 0:
        return
    by_id = {c.id: c for c in categories}
    weights = [c.weight for c in categories]
    for vendor in vendors:
        picks = r.choices(categories, weights=weights, k=r.randint(1, 3))
        vendor.categories = sorted({c.id for c in picks})
    sizes = [r.lognormvariate(0.0, 0.8) for _ in vendors]
    for index in r.choices(range(len(vendors)), weights=sizes, k=total):
        vendors[index].products += 1
    for vendor in vendors:
        for sequence in range(vendor.products):
            yield vendor, by_id[r.choice(vendor.categories)], sequence
