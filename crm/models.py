"""A shop's customers, catalog, orders, pipeline and segments (all in the shop's schema).

User references (`owner_id`, `actor_id`) are plain ids of `tenants.User` in the public schema,
deliberately without database foreign keys: see README "Tenancy".
"""

from django.db import models
from django.utils import timezone


class Label(models.Model):
    name = models.CharField(max_length=40, unique=True)
    color = models.CharField(max_length=7, default="#0f766e", help_text="#rrggbb")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AttributeDefinition(models.Model):
    """A shop-defined contact field."""

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        CHOICE = "choice", "Choice"
        CHECKBOX = "checkbox", "Checkbox"

    key = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=80)
    type = models.CharField(max_length=10, choices=Type.choices)
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Contact(models.Model):
    """One customer. Known by phone (E.164), by WhatsApp id, or only by a business-scoped user id.

    Order aggregates are kept on the row (by crm.services) so that segments and lists are single
    indexed queries at a million contacts; RFM scores live in the narrow `ContactRfm`.
    """

    class Source(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp"
        IMPORT = "import", "Import"
        MANUAL = "manual", "Manual"
        AD = "ad", "Click-to-WhatsApp ad"

    class Gender(models.TextChoices):
        FEMALE = "f", "Female"
        MALE = "m", "Male"
        OTHER = "o", "Other"

    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, null=True, blank=True, unique=True, help_text="E.164")
    phone_digits = models.CharField(max_length=20, blank=True, help_text="National number digits, for fragment search")
    wa_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    business_user_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="WhatsApp business-scoped user id (ID.…)"
    )
    email = models.EmailField(blank=True)
    city = models.CharField(max_length=80, blank=True)
    address = models.TextField(blank=True)
    birthday = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="contacts")
    attributes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    owner_id = models.BigIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    marketing_opt_out = models.BooleanField(default=False)
    marketing_opt_out_at = models.DateTimeField(null=True, blank=True)
    marketing_opt_out_reason = models.CharField(max_length=120, blank=True)
    undeliverable = models.BooleanField(default=False, help_text="WhatsApp said this number cannot receive messages")
    last_inbound_at = models.DateTimeField(null=True, blank=True, help_text="Opens the 24-hour service window")
    # Order aggregates (maintained by crm.services.orders); RFM scores are in ContactRfm.
    order_count = models.PositiveIntegerField(default=0)
    total_spent = models.BigIntegerField(default=0, help_text="Minor units of the shop's currency")
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="Personal data erased on request (crm.services.erasure); totals kept"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        # Trigram indexes for name and phone fragment search: crm/migrations/0003, where pg_trgm exists.
        # Every index here is opened by the planner for every query on contacts, the first time a database
        # connection meets a shop's schema: one no query can use costs each shop's first inbox view
        # (crm/migrations/0014). City filters are case-insensitive (`upper(city)`), so no city index.
        indexes = [
            models.Index(fields=["last_order_at"], name="contact_last_order_idx"),
            models.Index(fields=["total_spent"], name="contact_total_spent_idx"),
            models.Index(fields=["first_order_at"], name="contact_first_order_idx"),
            # Phone numbers typed from their start (0812…): a prefix range, where trigrams of digits are weak.
            models.Index(fields=["phone_digits"], name="contact_phone_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.wa_id or self.business_user_id or f"contact {self.pk}"


class ContactRfm(models.Model):
    """A customer's RFM scores and group (crm.services.segments.refresh_rfm), apart from the contact.

    A refresh rewrites these narrow rows instead of every contact row and all of its indexes.
    Contacts without orders, and merged ones (crm.services.contacts.merge drops the row), have none.
    """

    contact = models.OneToOneField(Contact, primary_key=True, on_delete=models.CASCADE, related_name="rfm")
    recency = models.PositiveSmallIntegerField()
    frequency = models.PositiveSmallIntegerField()
    monetary = models.PositiveSmallIntegerField()
    segment = models.CharField(max_length=20, db_index=True)

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.segment}"


class TimelineEvent(models.Model):
    """Everything that happened with a contact, newest first: notes, orders, deals, labels, consent."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=30)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at"], name="timeline_contact_idx")]

    def __str__(self) -> str:
        return self.summary


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    image_url = models.URLField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """What is actually sold: a product in one size and colour, with its own SKU, price and stock."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    size = models.CharField(max_length=20, blank=True)
    color = models.CharField(max_length=40, blank=True)
    price = models.PositiveBigIntegerField(help_text="Minor units (IDR has none)")
    stock = models.IntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["product_id", "id"]

    def __str__(self) -> str:
        return " / ".join(part for part in (self.product.name, self.size, self.color) if part)


class Order(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        CONFIRMED = "confirmed", "Confirmed"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", "Unpaid"
        PAID = "paid", "Paid"
        REFUNDED = "refunded", "Refunded"

    class Channel(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp"
        MANUAL = "manual", "Manual"
        MARKETPLACE = "marketplace", "Marketplace"

    number = models.CharField(max_length=20, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    status_history = models.JSONField(default=list, help_text='[{"status": "new", "at": iso, "by": user id}]')
    payment_status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID)
    payment_method = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.WHATSAPP)
    currency = models.CharField(max_length=3, default="IDR")
    subtotal = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(default=0)
    shipping_fee = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    tracking_number = models.CharField(max_length=60, blank=True)
    notes = models.TextField(blank=True)
    conversation_id = models.BigIntegerField(null=True, blank=True, help_text="The chat it came from")
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Covering: a customer's revenue in a period (top customers) without visiting the orders.
            models.Index(
                fields=["contact", "created_at"], name="order_contact_created_idx", include=["status", "total"]
            ),
            # Index-only scans for period aggregates (analytics): no heap visits for these columns.
            models.Index(
                fields=["created_at"], name="order_period_covering_idx", include=["status", "total", "contact_id"]
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(Variant, null=True, on_delete=models.SET_NULL, related_name="order_items")
    product_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    description = models.CharField(max_length=250, help_text="What was sold, as it was named then")
    quantity = models.PositiveIntegerField()
    unit_price = models.BigIntegerField()
    line_total = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    name = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.OPEN)
    counts_as_contacted = models.BooleanField(
        default=False, help_text="Reaching this stage (or later) means the prospect was contacted"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Deal(models.Model):
    title = models.CharField(max_length=200)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="deals")
    value = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="IDR")
    expected_close = models.DateField(null=True, blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    position = models.IntegerField(default=0, help_text="Order within its column")
    lost_reason = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["stage__position", "position", "-id"]
        indexes = [models.Index(fields=["stage", "position"], name="deal_stage_position_idx")]

    def __str__(self) -> str:
        return self.title


class DealStageChange(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="history")
    from_stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    actor_id = models.BigIntegerField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class Segment(models.Model):
    """Saved rules (see crm.segments for the grammar), evaluated as one SQL query."""

    name = models.CharField(max_length=80, unique=True)
    rules = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ShopSettings(models.Model):
    """One row of CRM settings per shop."""

    active_window_days = models.PositiveSmallIntegerField(default=90)
    loyal_min_orders = models.PositiveSmallIntegerField(default=3)
    rfm_refreshed_at = models.DateTimeField(null=True, blank=True)
    rollup_time_zone = models.CharField(
        max_length=64, blank=True, help_text="The zone whose local days the daily rollups were built in"
    )
    order_templates = models.JSONField(
        default=dict, blank=True, help_text='Utility template ids per order status: {"confirmed": 3, "shipped": 4}'
    )

    def __str__(self) -> str:
        return "CRM settings"


class DailyStats(models.Model):
    """One local day of the shop (its time zone), kept by crm.services.rollups for the dashboard."""

    day = models.DateField(primary_key=True)
    new_contacts = models.IntegerField(default=0, help_text="Contacts created that day, merged ones left out")
    orders = models.IntegerField(default=0, help_text="Orders placed that day, cancelled ones left out")
    revenue = models.BigIntegerField(default=0, help_text="Their totals, minor units")
    new_customers = models.IntegerField(default=0, help_text="Customers whose first order was that day")

    def __str__(self) -> str:
        return str(self.day)


class OrderSequence(models.Model):
    """Orders of a day counted by the day of the same customer's previous order and by their rank.

    Distinct customers of any range of days, and which of them had ordered before, come from
    these counts without reading the orders (see crm.services.rollups). Cancelled orders are left out.
    """

    pk = models.CompositePrimaryKey("day", "previous_day", "ordinal")
    day = models.DateField()
    previous_day = models.DateField(help_text="The day of the customer's previous order; the day itself for a first")
    ordinal = models.PositiveSmallIntegerField(help_text="1 first order, 2 second, 3 third or later")
    orders = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} after {self.previous_day} (#{self.ordinal})"


class ProductDay(models.Model):
    """Quantity and revenue of one product on one local day, cancelled orders left out."""

    pk = models.CompositePrimaryKey("day", "product_id")
    day = models.DateField()
    product_id = models.BigIntegerField()
    quantity = models.BigIntegerField(default=0)
    revenue = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} product {self.product_id}"


class ContactImport(models.Model):
    """A CSV/XLSX upload turned into contacts by a background job, with a per-line error report."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    columns = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, blank=True)
    update_existing = models.BooleanField(default=True)
    label_all = models.CharField(
        max_length=40, blank=True, help_text="A label put on every row it imports (a broadcast's uploaded audience)"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text='[{"line": 7, "reason": "..."}]')
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.filename} ({self.status})"
