"""The demo marketplace's pages in each platform's real format, from project-written data.

A Taobao-style shop (g_page_config search page, item pages, the mtop getitemrates JSON paged
newest first), a JD-style shop (GBK listing and item pages, fetchJSON_comment98 JSONP) and an
Amazon-style shop (product pages, /product-reviews/ pages), and their product images. The data and
templates are the packaged fixtures (``fixtures/marketplace``), so an installed wheel serves them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from monitor.paths import FIXTURES

PAGE_SIZE = 10
CST = timezone(timedelta(hours=8))


def _js_escape(text: str) -> str:
    """What JD and Taobao do to Chinese text inside JS string literals."""
    return "".join(c if ord(c) < 128 and c not in "'\\" else f"\\u{ord(c):04x}" for c in text)


class MarketPages:
    """The shops' data and the pages rendered from it; ``Marketplace`` serves them over HTTP."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or FIXTURES / "marketplace"
        data = json.loads((self.root / "shops.json").read_text(encoding="utf-8"))
        self.data = copy.deepcopy(data)
        self._lock = threading.Lock()
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(self.root / "templates"),
                                      autoescape=jinja2.select_autoescape(["html"]))
        self.base_url = ""

    def listings(self) -> list[dict[str, Any]]:
        return [li for shop in self.data["shops"] for li in shop["listings"]]

    # Lookup -------------------------------------------------------------------------------------
    def _listing(self, listing_id: str) -> dict[str, Any]:
        for li in self.listings():
            if li["id"] == listing_id:
                return li
        raise KeyError(f"no listing {listing_id}")

    def _shop_of(self, listing_id: str) -> dict[str, Any]:
        for shop in self.data["shops"]:
            if any(li["id"] == listing_id for li in shop["listings"]):
                return shop
        raise KeyError(listing_id)

    def _review(self, review_id: str) -> dict[str, Any]:
        for li in self.listings():
            for r in li["reviews"]:
                if r["id"] == review_id:
                    return r
        raise KeyError(f"no review {review_id}")

    # Rendering ------------------------------------------------------------------------------------
    def _image(self, p: str) -> tuple[int, str, bytes]:
        path = (self.root / "images" / Path(p).name).resolve()
        if path.parent != (self.root / "images").resolve() or not path.is_file():
            raise KeyError(p)
        return 200, "image/png", path.read_bytes()

    def _shop_by_id(self, shop_id: str) -> dict[str, Any]:
        for shop in self.data["shops"]:
            if shop.get("shop_id") == shop_id:
                return shop
        raise KeyError(shop_id)

    def _taobao_search(self, shop_id: str) -> tuple[int, str, bytes]:
        shop = self._shop_by_id(shop_id)
        auctions = [{
            "nid": li["id"], "category": "50000436", "pid": "", "title": li["title"], "raw_title": li["title"],
            "pic_url": li["image"], "detail_url": f"/taobao/item.htm?id={li['id']}", "view_price": f"{li['price']:.2f}",
            "view_fee": "0.00", "item_loc": "浙江 杭州", "view_sales": f"{len(li['reviews']) * 3}人付款",
            "comment_count": str(len(li["reviews"])), "user_id": shop["seller_id"], "nick": shop["seller_nick"],
            "comment_url": f"/taobao/item.htm?id={li['id']}&on_comment=1", "shopLink": f"/taobao/search?shop_id={shop_id}",
        } for li in shop["listings"]]
        config = {"pageName": "mainsrp", "mods": {
            "itemlist": {"status": "show", "data": {"postFeeText": "运费", "trace": "msrp_auction", "auctions": auctions}},
            "pager": {"status": "show", "data": {"pageSize": 44, "totalPage": 1, "currentPage": 1,
                                                  "totalCount": len(auctions)}}}}
        html = self.env.get_template("taobao_search.html").render(
            shop=shop, config_json=Markup(json.dumps(config, ensure_ascii=False)))
        return 200, "text/html; charset=utf-8", html.encode("utf-8")

    def _taobao_item(self, item_id: str) -> tuple[int, str, bytes]:
        li, shop = self._listing(item_id), self._shop_of(item_id)
        sku_map, memo = {}, {}
        for n, name in enumerate(li["sku_names"]):
            pv = f"1627207:{28320 + n}"
            memo[pv] = name
            sku_map[f";{pv};"] = {"price": f"{li['price']:.2f}", "stock": "99", "skuId": f"{item_id[-6:]}{n:03d}",
                                  "oversold": False}
        html = self.env.get_template("taobao_item.html").render(
            item={**li, "images": [li["image"]]},
            shop={**shop, "name_escaped": _js_escape(shop["name"])},
            sku_map_json=Markup(json.dumps(sku_map)),
            memo_json=Markup(json.dumps(memo, ensure_ascii=False)))
        return 200, "text/html; charset=utf-8", html.encode("utf-8")

    @staticmethod
    def _page(reviews: list[dict[str, Any]], page: int, first: int) -> tuple[list[dict[str, Any]], int]:
        pages = max(1, math.ceil(len(reviews) / PAGE_SIZE))
        start = (page - first) * PAGE_SIZE
        return reviews[start : start + PAGE_SIZE], pages

    def _taobao_rates(self, item_id: str, page: int) -> tuple[int, str, bytes]:
        li = self._listing(item_id)
        rows, pages = self._page(li["reviews"], page, 1)
        rate_list = []
        for r in rows:
            created = datetime.fromisoformat(r["created_at"]).astimezone(CST)
            photos = [p for p in r["photos"]]
            entry = {
                "allowComment": "false", "annoy": "0", "auctionNumId": item_id,
                "feedPicList": [{"cover": "false", "fileId": str(1000 + i), "status": "1", "thumbnail": p}
                                for i, p in enumerate(photos)],
                "feedPicPathList": photos, "feedback": r["text"],
                "feedbackDate": created.strftime("%Y-%m-%d %H:%M"), "goldUser": "false", "hasDetail": "true",
                "id": r["id"], "rateType": "1" if r["rating"] >= 4 else "0" if r["rating"] == 3 else "-1",
                "reply": r["reply"] or "",
                "skuMap": dict([r["sku"].split("：", 1)]) if r.get("sku") and "：" in r["sku"] else {},
                "userId": "0", "userMark": hashlib.sha1(r["nick"].encode()).hexdigest()[:24],
                "userNick": r["nick"], "userStar": "3", "usefulCount": str(r["helpful"]),
            }
            if r.get("follow_up"):
                entry["appendedFeed"] = {"appendedFeedback": r["follow_up"],
                                         "appendedFeedbackDate": (created + timedelta(days=3)).strftime("%Y-%m-%d")}
            rate_list.append(entry)
        body = {"api": "mtop.wdetail.getitemrates", "v": "3.0", "ret": ["SUCCESS::调用成功"], "data": {
            "allowInteract": "true", "feedAllCount": str(len(li["reviews"])), "rateList": rate_list,
            "total": str(len(li["reviews"])), "totalPage": str(pages), "latestSort": "true",
            "searchUrl": f"/h5/mtop.wdetail.getitemrates/3.0/?auctionNumId={item_id}"}}
        return 200, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _jd_list(self, shop_id: str) -> tuple[int, str, bytes]:
        shop = self._shop_by_id(shop_id)
        items = [{**li, "review_count": len(li["reviews"])} for li in shop["listings"]]
        html = self.env.get_template("jd_list.html").render(shop=shop, items=items)
        return 200, "text/html; charset=gbk", html.encode("gbk")

    def _jd_item(self, sku: str) -> tuple[int, str, bytes]:
        li, shop = self._listing(sku), self._shop_of(sku)
        html = self.env.get_template("jd_item.html").render(
            item={**li, "title_escaped": _js_escape(li["title"]), "comment_version": "9876543210"},
            shop=shop, image_list_json=Markup(json.dumps([li["image"]])))
        return 200, "text/html; charset=gbk", html.encode("gbk")

    def _jd_comments(self, sku: str, page: int, callback: str | None) -> tuple[int, str, bytes]:
        li, shop = self._listing(sku), self._shop_of(sku)
        rows, pages = self._page(li["reviews"], page, 0)
        comments = []
        for r in rows:
            created = datetime.fromisoformat(r["created_at"]).astimezone(CST)
            c = {"id": int(r["id"]), "guid": hashlib.md5(r["id"].encode()).hexdigest(), "content": r["text"],
                 "creationTime": created.strftime("%Y-%m-%d %H:%M:%S"), "isDelete": False, "isTop": False,
                 "replyCount": 1 if r["reply"] else 0, "score": r["rating"], "usefulVoteCount": r["helpful"],
                 "userClient": 4, "imageCount": len(r["photos"]), "anonymousFlag": 1, "plusAvailable": 201,
                 "images": [{"id": i, "imgUrl": p, "imgTitle": "", "status": 0} for i, p in enumerate(r["photos"])],
                 "productColor": r.get("sku") or "", "productSize": "", "location": "广东", "status": 1,
                 "referenceId": sku, "referenceName": li["title"], "nickname": r["nick"], "days": 5}
            if r.get("follow_up"):
                after = (created + timedelta(days=4)).strftime("%Y-%m-%d %H:%M:%S")
                c["afterUserComment"] = {"id": int(r["id"]) + 7, "content": r["follow_up"], "created": after,
                                         "hAfterUserComment": {"id": int(r["id"]) + 7, "content": r["follow_up"]}}
            if r.get("reply"):
                c["replies"] = [{"id": int(r["id"]) + 9, "content": r["reply"], "nickname": shop["name"],
                                 "creationTime": (created + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M:%S"),
                                 "venderId": int(shop["vender_id"]), "replyList": []}]
            comments.append(c)
        scores = [r["rating"] for r in li["reviews"]]
        summary = {"skuId": int(sku), "averageScore": round(sum(scores) / len(scores)) if scores else 5,
                   "commentCount": len(scores), "commentCountStr": str(len(scores)),
                   "goodRate": round(sum(s >= 4 for s in scores) / max(1, len(scores)), 3),
                   "poorCount": sum(s <= 2 for s in scores), "poorCountStr": str(sum(s <= 2 for s in scores))}
        body = {"jwotestProduct": None, "score": 0, "comments": comments, "maxPage": pages,
                "productCommentSummary": summary, "soType": 5}
        text = json.dumps(body, ensure_ascii=False)
        if callback:
            text = f"{callback}({text});"
        return 200, "text/html;charset=UTF-8", text.encode("utf-8")

    def _amazon_dp(self, asin: str) -> tuple[int, str, bytes]:
        li, shop = self._listing(asin), self._shop_of(asin)
        scores = [r["rating"] for r in li["reviews"]] or [5]
        html = self.env.get_template("amazon_dp.html").render(
            item={**li, "rating_avg": sum(scores) / len(scores), "review_count": len(li["reviews"])},
            shop=shop, base=self.base_url)
        return 200, "text/html;charset=UTF-8", html.encode("utf-8")

    def _amazon_reviews(self, asin: str, page: int) -> tuple[int, str, bytes]:
        li = self._listing(asin)
        rows, pages = self._page(li["reviews"], page, 1)
        reviews = []
        for r in rows:
            d = datetime.fromisoformat(r["created_at"])
            # Amazon review ids are "R" + upper-case alphanumerics
            reviews.append({**r, "id": "R" + r["id"], "date_text": f"{d:%B} {d.day}, {d.year}",
                            "profile": hashlib.sha1(r["nick"].encode()).hexdigest()[:28].upper()})
        html = self.env.get_template("amazon_reviews.html").render(item=li, reviews=reviews, page=page,
                                                                   has_next=page < pages, base=self.base_url)
        return 200, "text/html;charset=UTF-8", html.encode("utf-8")
