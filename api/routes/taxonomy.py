"""``GET /v1/taxonomy``: the perk categories and amenities with Japanese and English labels."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from search.taxonomy import builtin_taxonomy

router = APIRouter(prefix="/v1", tags=["taxonomy"])


class CategoryLabel(BaseModel):
    key: str
    ja: str
    en: str
    description: str


class AmenityLabel(BaseModel):
    key: str
    category: str
    ja: str
    en: str


class TaxonomyResponse(BaseModel):
    categories: list[CategoryLabel]
    amenities: list[AmenityLabel]


@router.get("/taxonomy", response_model=TaxonomyResponse, summary="Perk categories and amenities, labelled")
async def taxonomy() -> TaxonomyResponse:
    return TaxonomyResponse.model_validate(builtin_taxonomy().as_json())
