import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type ContactRef, type Order, type OrderChannel, type OrderPayload, type VariantOption } from "../../api";
import { ErrorAlert } from "../../components/Alert";
import { ContactPicker } from "../../components/ContactPicker";
import { splitErrors } from "../../components/errors";
import { Icon } from "../../components/Icon";
import { formatMoney } from "../../format";
import { useI18n, type TKey } from "../../i18n";

export const PAYMENT_METHODS = ["transfer", "cod", "qris", "ewallet", "cash", "other"] as const;
export const CHANNELS: OrderChannel[] = ["whatsapp", "manual", "marketplace"];

export function paymentKey(method: string): TKey | null {
  return (PAYMENT_METHODS as readonly string[]).includes(method) ? (`orders.payment.${method}` as TKey) : null;
}

interface Line {
  variant: VariantOption;
  quantity: number;
  /** The catalog price unless changed by hand. */
  unitPrice: number;
}

function toInt(value: string): number {
  const n = Math.round(Number(value));
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Subtotal and total the way the server computes them: Σ qty × price − discount + shipping. */
export function orderTotals(lines: { quantity: number; unitPrice: number }[], discount: number, shipping: number) {
  const subtotal = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  return { subtotal, total: Math.max(0, subtotal - discount + shipping) };
}

/** New order: contact, variants with quantities, discount/shipping, payment, live totals. */
export function OrderForm({
  initialContact = null,
  conversationId = null,
  onSaved,
  onCancel,
}: {
  initialContact?: ContactRef | null;
  conversationId?: number | null;
  onSaved: (order: Order) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [contact, setContact] = useState<ContactRef | null>(initialContact);
  const [search, setSearch] = useState("");
  const [options, setOptions] = useState<VariantOption[] | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [discount, setDiscount] = useState("");
  const [shipping, setShipping] = useState("");
  const [paymentMethod, setPaymentMethod] = useState("");
  const [channel, setChannel] = useState<OrderChannel>(conversationId ? "whatsapp" : "manual");
  const [notes, setNotes] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  // Variant search (the first results show right away, so picking a product is one click).
  useEffect(() => {
    let cancelled = false;
    const timer = window.setTimeout(
      () => {
        endpoints.variants(search).then(
          (list) => !cancelled && setOptions(list),
          () => !cancelled && setOptions([]),
        );
      },
      search ? 250 : 0,
    );
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [search]);

  function add(v: VariantOption) {
    setLines((old) => {
      const existing = old.find((l) => l.variant.id === v.id);
      if (existing) return old.map((l) => (l.variant.id === v.id ? { ...l, quantity: l.quantity + 1 } : l));
      return [...old, { variant: v, quantity: 1, unitPrice: Math.round(Number(v.price) || 0) }];
    });
  }

  function update(id: number, changes: Partial<Line>) {
    setLines((old) => old.map((l) => (l.variant.id === id ? { ...l, ...changes } : l)));
  }

  const discountValue = toInt(discount);
  const shippingValue = toInt(shipping);
  const { subtotal, total } = orderTotals(lines, discountValue, shippingValue);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const errors: Record<string, string[]> = {};
    if (!contact) errors.contact_id = [t("orders.contactRequired")];
    if (!lines.length) errors.items = [t("orders.itemsRequired")];
    setFieldErrors(errors);
    setAlert([]);
    if (!contact || Object.keys(errors).length) return;
    const payload: OrderPayload = {
      contact_id: contact.id,
      items: lines.map((l) => {
        const item: OrderPayload["items"][number] = { variant_id: l.variant.id, quantity: l.quantity };
        if (l.unitPrice !== Math.round(Number(l.variant.price) || 0)) item.unit_price = l.unitPrice;
        return item;
      }),
      discount: discountValue,
      shipping_fee: shippingValue,
      payment_method: paymentMethod,
      channel,
      notes,
    };
    if (conversationId) payload.conversation_id = conversationId;
    setSaving(true);
    try {
      onSaved(await endpoints.createOrder(payload));
    } catch (err) {
      const split = splitErrors(err, ["contact_id", "items", "discount", "shipping_fee", "payment_method"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="form order-form" onSubmit={onSubmit} noValidate data-testid="order-form">
      <ErrorAlert messages={alert} />
      <ContactPicker id="order_contact" label={t("orders.contact")} value={contact} onChange={setContact} testId="order-contact" errors={fieldErrors.contact_id} />

      <div className="field">
        <label htmlFor="order_variant_search">{t("orders.products")}</label>
        <div className="search-box">
          <Icon name="search" className="icon icon-xs" />
          <input
            id="order_variant_search"
            type="search"
            autoComplete="off"
            placeholder={t("orders.searchProduct")}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="order-variant-search"
          />
        </div>
        {options !== null ? (
          <ul className="variant-options" aria-label={t("orders.products")}>
            {options.length === 0 ? <li className="muted small picker-empty">{t("orders.noProducts")}</li> : null}
            {options.slice(0, 8).map((v) => (
              <li key={v.id}>
                <button type="button" className="picker-option" onClick={() => add(v)} data-testid={`order-variant-option-${v.id}`}>
                  <span>
                    <strong>{v.label}</strong> <span className="muted small">{v.sku}</span>
                  </span>
                  <span className="small">
                    {formatMoney(v.price)} · <span className={v.stock > 0 ? "muted" : "text-danger"}>{t("orders.stock", { n: v.stock })}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        {fieldErrors.items ? (
          <div className="field-error" data-testid="order_items-error">
            {fieldErrors.items.join(" ")}
          </div>
        ) : null}
      </div>

      {lines.length ? (
        <div className="table-wrap">
          <table className="table" data-testid="order-lines">
            <thead>
              <tr>
                <th>{t("orders.item")}</th>
                <th>{t("orders.qty")}</th>
                <th>{t("orders.unitPrice")}</th>
                <th>{t("orders.lineTotal")}</th>
                <th className="actions" />
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => (
                <tr key={l.variant.id} data-testid={`order-line-${l.variant.id}`}>
                  <td data-label={t("orders.item")}>{l.variant.label}</td>
                  <td data-label={t("orders.qty")}>
                    <input
                      className="input-sm"
                      type="number"
                      min={1}
                      step={1}
                      aria-label={t("orders.qtyFor", { name: l.variant.label })}
                      value={l.quantity || ""}
                      onChange={(e) => update(l.variant.id, { quantity: toInt(e.target.value) })}
                      data-testid={`order-qty-${l.variant.id}`}
                    />
                  </td>
                  <td data-label={t("orders.unitPrice")}>
                    <input
                      className="input-md"
                      type="number"
                      min={0}
                      step={1}
                      aria-label={t("orders.priceFor", { name: l.variant.label })}
                      value={l.unitPrice}
                      onChange={(e) => update(l.variant.id, { unitPrice: toInt(e.target.value) })}
                      data-testid={`order-price-${l.variant.id}`}
                    />
                  </td>
                  <td data-label={t("orders.lineTotal")}>{formatMoney(l.quantity * l.unitPrice)}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="btn btn-danger-ghost btn-sm"
                      onClick={() => setLines((old) => old.filter((x) => x.variant.id !== l.variant.id))}
                      data-testid={`order-remove-${l.variant.id}`}
                    >
                      {t("common.delete")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <div className="form-grid form-grid-2">
        <div className="field">
          <label htmlFor="order_discount">{t("orders.discount")}</label>
          <input id="order_discount" type="number" min={0} step={1} inputMode="numeric" value={discount} onChange={(e) => setDiscount(e.target.value)} data-testid="order-discount" />
        </div>
        <div className="field">
          <label htmlFor="order_shipping">{t("orders.shipping")}</label>
          <input id="order_shipping" type="number" min={0} step={1} inputMode="numeric" value={shipping} onChange={(e) => setShipping(e.target.value)} data-testid="order-shipping" />
        </div>
        <div className="field">
          <label htmlFor="order_payment_method">{t("orders.paymentMethod")}</label>
          <select id="order_payment_method" value={paymentMethod} onChange={(e) => setPaymentMethod(e.target.value)} data-testid="order-payment-method">
            <option value="">{t("common.none")}</option>
            {PAYMENT_METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`orders.payment.${m}` as TKey)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="order_channel">{t("orders.channel")}</label>
          <select id="order_channel" value={channel} onChange={(e) => setChannel(e.target.value as OrderChannel)} data-testid="order-channel">
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`orders.channel.${c}` as TKey)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor="order_notes">{t("orders.notes")}</label>
        <textarea id="order_notes" rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} data-testid="order-notes" />
      </div>

      <dl className="totals" aria-live="polite">
        <dt>{t("orders.subtotal")}</dt>
        <dd data-testid="order-subtotal">{formatMoney(subtotal)}</dd>
        <dt>{t("orders.discount")}</dt>
        <dd>−{formatMoney(discountValue)}</dd>
        <dt>{t("orders.shipping")}</dt>
        <dd>{formatMoney(shippingValue)}</dd>
        <dt className="totals-total">{t("orders.total")}</dt>
        <dd className="totals-total" data-testid="order-total">
          {formatMoney(total)}
        </dd>
      </dl>

      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="order-save">
          {t("orders.save")}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
