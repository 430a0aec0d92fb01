"""The one writer of products and their variants."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.models import Product, Variant
from tenants.services.errors import ServiceError


def _clean_variants(variants: list[dict]) -> list[dict]:
    if not variants:
        raise ServiceError(_("Add at least one variant (size, colour, price)."), field="variants")
    seen, clean = set(), []
    for index, variant in enumerate(variants, 1):
        if not isinstance(variant, dict):
            raise ServiceError(_("Variant %(n)d needs a SKU.") % {"n": index}, field="variants")
        sku = str(variant.get("sku", "")).strip()
        if not sku:
            raise ServiceError(_("Variant %(n)d needs a SKU.") % {"n": index}, field="variants")
        if sku in seen:
            raise ServiceError(_("SKU %(sku)s appears twice.") % {"sku": sku}, field="variants")
        seen.add(sku)
        try:
            price, stock = int(variant.get("price")), int(variant.get("stock", 0))
        except (TypeError, ValueError) as exc:
            raise ServiceError(
                _("Variant %(n)d: price and stock are whole numbers.") % {"n": index}, field="variants"
            ) from exc
        if price < 0:
            raise ServiceError(_("Variant %(n)d: the price cannot be negative.") % {"n": index}, field="variants")
        size, color = str(variant.get("size", ""))[:20], str(variant.get("color", ""))[:40]
        clean.append({"sku": sku, "size": size, "color": color, "price": price, "stock": stock})
    return clean


def save_product(product: Product | None, *, name: str, variants: list[dict], description: str = "",
                 image_url: str = "", active: bool = True) -> Product:  # fmt: skip
    """Creates or updates a product; variants are matched by SKU and the missing ones deactivated."""
    if not name.strip():
        raise ServiceError(_("Give the product a name."), field="name")
    clean = _clean_variants(variants)
    try:
        with transaction.atomic():
            product = product or Product()
            product.name, product.description, product.image_url, product.active = (
                name.strip(),
                description,
                image_url,
                active,
            )
            product.save()
            existing = {v.sku: v for v in product.variants.all()}
            for data in clean:
                variant = existing.pop(data["sku"], None) or Variant(product=product)
                for field, value in data.items():
                    setattr(variant, field, value)
                variant.active = True
                variant.save()
            Variant.objects.filter(pk__in=[v.pk for v in existing.values()]).update(active=False)
    except IntegrityError as exc:
        raise ServiceError(_("One of these SKUs belongs to another product."), field="variants") from exc
    return product
