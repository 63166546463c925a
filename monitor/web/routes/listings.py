"""Listings whose pictures do not match: the listing's images, buyers' photos and the reasons side by side."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from models.catalog import Listing, ListingImage
from models.detection import Flag
from models.reviews import Review
from monitor.image_store import ImageStoreError, open_store
from monitor.web.auth import Viewer, DB, viewer
from monitor.web.pages import render

router = APIRouter()
BUYER_PHOTOS_SHOWN = 12


@router.get("/listings")
def listings(request: Request, who: Viewer = Depends(viewer), session: Session = DB) -> Response:
    flags = session.exec(
        select(Flag).where(Flag.kind == "image_mismatch").order_by(Flag.score.desc()).limit(200)
    ).all()
    rows = []
    for flag in flags:
        listing_id = flag.listing_id or (flag.target_id if flag.target_type == "listing" else None)
        listing = session.get(Listing, listing_id) if listing_id else None
        images = session.exec(select(ListingImage).where(ListingImage.listing_id == listing_id)
                              .order_by(ListingImage.role, ListingImage.position)).all() if listing_id else []
        photos = [p for ps in session.exec(select(Review.photos).where(Review.listing_id == listing_id)
                                             .where(Review.deleted_at.is_(None)).limit(50)).all() for p in ps]
        rows.append({"flag": flag, "listing": listing,
                     "images": [i for i in images if i.role != "buyer"],
                     "buyer_images": [i for i in images if i.role == "buyer"],
                     "buyer_photos": photos[:BUYER_PHOTOS_SHOWN]})
    return render(request, "listings.html", rows=rows)


@router.get("/images/{image_id}")
def image(image_id: int, request: Request, who: Viewer = Depends(viewer),
          session: Session = DB) -> Response:
    """A stored listing image, read from the image store by its key (a row can't point the board at /etc)."""
    row = session.get(ListingImage, image_id)
    if row is None or not row.local_path:
        raise HTTPException(status_code=404)
    store = getattr(request.app.state, "image_store", None)
    if store is None:  # one store (and S3 client) per app, opened on first use
        store = request.app.state.image_store = open_store(request.app.state.settings.image_store_uri)
    key = store.key_of(store.source(row.local_path))
    try:
        data = store.get(key) if key is not None else None
    except ImageStoreError:
        data = None
    if data is None:
        raise HTTPException(status_code=404)
    return Response(content=data, media_type=mimetypes.guess_type(key)[0] or "application/octet-stream")
