"""The product's own message templates (话术), used until a supervisor stores a better one.

Placeholders: {buyer} (nick), {item}, {shop}, {link} (the item's page), {remedy} (what the shop
offers for the cause), {cause} (the cause in words) and, in public replies, {done} (what the
shop did about that cause).
"""

from __future__ import annotations

PLACEHOLDERS = ("buyer", "item", "shop", "link", "remedy", "cause", "done")

# What the shop offers the buyer, per cause, in words a buyer reads (guidance.py tells staff what to do).
REMEDY: dict[str, dict[str, str]] = {
    "quality": {
        "en": "We would like to exchange the item or refund you; a photo of the problem helps us fix it at the source.",
        "zh": "我们可以为您换货或退款；方便的话请拍一张问题照片，我们会反馈给质检改进。",
    },
    "not_as_pictured": {
        "en": "We are sorry the item differs from its photos; we can take it back or exchange it, return shipping on us.",
        "zh": "商品与图片不符让您失望了，我们可以为您退货或换货，运费由我们承担。",
    },
    "missing_item": {
        "en": "We have checked the packing record and will send the missing part at once; we will send you the tracking number.",
        "zh": "我们已核对打包记录，会马上为您补发缺少的商品，并把物流单号发给您。",
    },
    "late_delivery": {
        "en": "We have chased the courier about your parcel and will tell you as soon as we know when it arrives.",
        "zh": "我们已联系快递催促您的包裹，有消息会第一时间告诉您。",
    },
    "transport_damage": {
        "en": "Could you send us photos of the parcel and the item? We will resend or refund and claim from the courier.",
        "zh": "麻烦您拍一下外包装和商品的照片，我们会为您补发或退款，并向快递公司索赔。",
    },
    "service_attitude": {
        "en": "Our supervisor apologises personally for how you were treated; we have gone through the chat with the colleague.",
        "zh": "我们的主管就服务态度向您郑重道歉，已经和当班客服一起复盘了聊天记录。",
    },
    "other": {
        "en": "Could you tell us what went wrong? We want to put it right.",
        "zh": "能告诉我们具体遇到了什么问题吗？我们一定尽力为您解决。",
    },
}

GENUINE: dict[str, dict[str, str]] = {
    "wangwang": {
        "en": "Hello {buyer}, this is {shop}'s after-sales team. We saw your review of {item} and we are sorry it "
              "disappointed you. {remedy} Once it is sorted out, if you are happy with how we handled it, you can "
              "update your review here: {link}",
        "zh": "{buyer} 您好，我是{shop}的售后客服。看到您对「{item}」的评价，给您带来不好的体验非常抱歉。{remedy}"
              "问题解决后，如果您对处理结果满意，可以在这里修改评价：{link}",
    },
    "sms": {
        "en": "{shop} after-sales: sorry about your {item}. {remedy} Reply or message us on Wangwang.",
        "zh": "【{shop}售后】关于您购买的「{item}」给您添麻烦了。{remedy}请回复短信或旺旺联系我们。",
    },
    "phoned": {
        "en": "Introduce yourself ({shop} after-sales) and ask if it is a good time. Apologise for {item}. Listen to the "
              "whole problem before offering anything. Offer: {remedy} Confirm what happens next and by when. Only "
              "then, and only if they are satisfied, mention that the review can still be updated.",
        "zh": "自我介绍（{shop}售后），先问对方是否方便接听。就「{item}」致歉。先完整听买家说明问题，再提方案："
              "{remedy}确认接下来做什么、什么时候完成。买家满意后，再提一句评价还可以修改。",
    },
    "public_reply": {
        "en": "Thank you for telling us. The cause was {cause}; {done}. If anything is still not right, please message "
              "us and we will take care of it.",
        "zh": "感谢您的反馈。问题原因是{cause}；{done}。如仍有不满意的地方，请随时旺旺联系我们，我们一定负责到底。",
    },
}

# Abuse: say nothing that admits fault or offers money for the review; the evidence goes to the platform.
ABUSE_CONTACT: dict[str, dict[str, str]] = {
    "extortion": {
        "en": "Hello {buyer}, this is {shop}'s after-sales team about your order of {item}. We are glad to handle any "
              "problem with the item under the platform's rules (return, exchange, refund). Under those rules we "
              "cannot pay anything in exchange for changing a review.",
        "zh": "{buyer} 您好，我是{shop}的售后客服，关于您购买的「{item}」。商品如有问题，我们可以按平台规则为您办理"
              "退货、换货或退款；按平台规定，我们不能以任何形式为修改评价付费。",
    },
    "attack": {
        "en": "Do not contact the accounts of an attack one by one: collect the member reviews and file one appeal with "
              "the platform. If a buyer writes to you, answer only with the platform's after-sales options.",
        "zh": "集中攻击的账号不要逐个联系：汇总全部相关评价，一次性向平台申诉。如有买家主动联系，只按平台售后规则答复。",
    },
    "professional": {
        "en": "Do not negotiate with this account: keep the evidence and report it to the platform. If the buyer writes "
              "to you, answer only with the platform's after-sales options.",
        "zh": "不要与该账号协商：保留证据并向平台举报。如买家主动联系，只按平台售后规则答复。",
    },
}
ABUSE_PUBLIC_REPLY = {
    "en": "We have checked this order's shipping and delivery records. What this review describes does not match "
          "them, and we have sent the evidence to the platform for review. If there is anything we can help with, "
          "please contact us through the platform's chat.",
    "zh": "我们已核实该订单的发货和物流记录，评价所述情况与记录不符，相关证据已提交平台核实。如有任何需要帮助的地方，"
          "欢迎通过平台旺旺联系我们。",
}
# {done} in a genuine public reply: what the shop did, as later buyers may read it. Payments'
# purposes stay in the ledger: they are notes for finance, not for the review page.
DONE: dict[str, dict[str, str]] = {
    "quality": {"en": "we offered the buyer an exchange or a refund and passed the problem to quality control",
                "zh": "我们已为买家提供换货或退款，并把问题反馈给质检"},
    "not_as_pictured": {"en": "we offered a return or exchange at our cost and are checking the listing photos",
                        "zh": "我们已为买家提供退换货（运费由我们承担），并在核对商品图片"},
    "missing_item": {"en": "we checked the packing record and sent the missing item",
                     "zh": "我们已核对打包记录并补发了缺少的商品"},
    "late_delivery": {"en": "we chased the courier and kept the buyer informed",
                      "zh": "我们已联系快递催件，并及时告知买家进展"},
    "transport_damage": {"en": "we offered a resend or refund and claimed from the courier",
                         "zh": "我们已为买家补发或退款，并向快递公司索赔"},
    "service_attitude": {"en": "our supervisor apologised and went through the conversation with the colleague",
                         "zh": "主管已向买家致歉，并与当班客服复盘了聊天记录"},
    "other": {"en": "we contacted the buyer to put it right", "zh": "我们已联系买家处理"},
}


def default_text(kind: str, language: str, use: str) -> str:
    if kind in ABUSE_CONTACT:
        return ABUSE_PUBLIC_REPLY[language] if use == "public_reply" else ABUSE_CONTACT[kind][language]
    return GENUINE[use][language]
