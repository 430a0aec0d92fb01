import { useCallback, useEffect, useState, type FormEvent } from "react";
import { endpoints, type Product, type ProductPayload } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { EmptyState } from "../../components/EmptyState";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Modal } from "../../components/Modal";
import { Spinner } from "../../components/Spinner";
import { formatMoney } from "../../format";
import { useI18n } from "../../i18n";

interface VariantDraft {
  sku: string;
  size: string;
  color: string;
  price: string;
  stock: string;
}

const emptyVariant = (): VariantDraft => ({ sku: "", size: "", color: "", price: "", stock: "" });

export function productPayload(name: string, description: string, imageUrl: string, active: boolean, variants: VariantDraft[]): ProductPayload {
  return {
    name: name.trim(),
    description,
    image_url: imageUrl.trim(),
    active,
    variants: variants
      .filter((v) => v.sku.trim() || v.price !== "")
      .map((v) => ({ sku: v.sku.trim(), size: v.size.trim(), color: v.color.trim(), price: Math.round(Number(v.price) || 0), stock: Math.round(Number(v.stock) || 0) })),
  };
}

function ProductForm({ product, onSaved, onCancel }: { product: Product | null; onSaved: (p: Product) => void; onCancel: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState(product?.name ?? "");
  const [description, setDescription] = useState(product?.description ?? "");
  const [imageUrl, setImageUrl] = useState(product?.image_url ?? "");
  const [active, setActive] = useState(product?.active ?? true);
  const [variants, setVariants] = useState<VariantDraft[]>(() =>
    product?.variants.length
      ? product.variants.filter((v) => v.active !== false).map((v) => ({ sku: v.sku, size: v.size, color: v.color, price: String(Math.round(Number(v.price) || 0)), stock: String(v.stock) }))
      : [emptyVariant()],
  );
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  function setVariant(i: number, changes: Partial<VariantDraft>) {
    setVariants((old) => old.map((v, j) => (j === i ? { ...v, ...changes } : v)));
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setFieldErrors({ name: [t("catalog.nameRequired")] });
      return;
    }
    setSaving(true);
    setFieldErrors({});
    setAlert([]);
    try {
      const payload = productPayload(name, description, imageUrl, active, variants);
      onSaved(product ? await endpoints.updateProduct(product.id, payload) : await endpoints.createProduct(payload));
    } catch (err) {
      const split = splitErrors(err, ["name", "description", "image_url"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="form" onSubmit={onSubmit} noValidate data-testid="product-form">
      <ErrorAlert messages={alert} />
      <Field id="product_name" label={t("catalog.name")} value={name} onChange={(e) => setName(e.target.value)} errors={fieldErrors.name} data-testid="product-name" />
      <div className="field">
        <label htmlFor="product_description">{t("catalog.description")}</label>
        <textarea id="product_description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} data-testid="product-description" />
      </div>
      <Field id="product_image" label={t("catalog.imageUrl")} type="url" value={imageUrl} onChange={(e) => setImageUrl(e.target.value)} errors={fieldErrors.image_url} data-testid="product-image" optionalLabel={t("common.optional")} />
      <label className="checkbox">
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} data-testid="product-active" />
        {t("catalog.active")}
      </label>
      <fieldset className="fieldset">
        <legend className="label">{t("catalog.variants")}</legend>
        <p className="muted small">{t("catalog.variantsHint")}</p>
        <div className="table-wrap">
          <table className="table table-inputs">
            <thead>
              <tr>
                <th>{t("catalog.sku")}</th>
                <th>{t("catalog.size")}</th>
                <th>{t("catalog.color")}</th>
                <th>{t("catalog.price")}</th>
                <th>{t("catalog.stock")}</th>
                <th className="actions" />
              </tr>
            </thead>
            <tbody>
              {variants.map((v, i) => (
                <tr key={i} data-testid={`variant-row-${i}`}>
                  <td data-label={t("catalog.sku")}>
                    <input aria-label={`${t("catalog.sku")} ${i + 1}`} value={v.sku} onChange={(e) => setVariant(i, { sku: e.target.value })} data-testid={`variant-sku-${i}`} />
                  </td>
                  <td data-label={t("catalog.size")}>
                    <input aria-label={`${t("catalog.size")} ${i + 1}`} value={v.size} onChange={(e) => setVariant(i, { size: e.target.value })} data-testid={`variant-size-${i}`} />
                  </td>
                  <td data-label={t("catalog.color")}>
                    <input aria-label={`${t("catalog.color")} ${i + 1}`} value={v.color} onChange={(e) => setVariant(i, { color: e.target.value })} data-testid={`variant-color-${i}`} />
                  </td>
                  <td data-label={t("catalog.price")}>
                    <input
                      type="number"
                      min={0}
                      step={1}
                      aria-label={`${t("catalog.price")} ${i + 1}`}
                      value={v.price}
                      onChange={(e) => setVariant(i, { price: e.target.value })}
                      data-testid={`variant-price-${i}`}
                    />
                  </td>
                  <td data-label={t("catalog.stock")}>
                    <input
                      type="number"
                      min={0}
                      step={1}
                      aria-label={`${t("catalog.stock")} ${i + 1}`}
                      value={v.stock}
                      onChange={(e) => setVariant(i, { stock: e.target.value })}
                      data-testid={`variant-stock-${i}`}
                    />
                  </td>
                  <td className="actions">
                    {variants.length > 1 ? (
                      <button type="button" className="btn btn-danger-ghost btn-sm" onClick={() => setVariants((old) => old.filter((_, j) => j !== i))} data-testid={`variant-remove-${i}`}>
                        {t("common.delete")}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => setVariants((old) => [...old, emptyVariant()])} data-testid="variant-add">
          + {t("catalog.addVariant")}
        </button>
      </fieldset>
      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="product-save">
          {t("common.save")}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

export function CatalogPage() {
  const { t } = useI18n();
  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const [products, setProducts] = useState<Product[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Product | "new" | null>(null);

  useEffect(() => {
    const timer = window.setTimeout(() => setQ(search.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const load = useCallback(async () => {
    try {
      const page = await endpoints.products(q);
      setProducts(page?.results ?? []);
      setNextCursor(page?.next_cursor ?? null);
      setError(null);
    } catch (err) {
      setProducts([]);
      setError(errorMessage(err, t));
    }
  }, [q, t]);

  useEffect(() => {
    void load();
  }, [load]);

  async function loadMore() {
    if (!nextCursor) return;
    try {
      const page = await endpoints.products(q, null, nextCursor);
      setProducts((old) => [...(old ?? []), ...(page?.results ?? [])]);
      setNextCursor(page?.next_cursor ?? null);
    } catch (err) {
      setError(errorMessage(err, t));
    }
  }

  function onSaved(p: Product) {
    setEditing(null);
    setProducts((old) => (old?.some((x) => x.id === p.id) ? old.map((x) => (x.id === p.id ? p : x)) : [p, ...(old ?? [])]));
  }

  const priceRange = (p: Product) => {
    const prices = p.variants.filter((v) => v.active !== false).map((v) => Number(v.price) || 0);
    if (!prices.length) return "—";
    const min = Math.min(...prices);
    const max = Math.max(...prices);
    return min === max ? formatMoney(min) : `${formatMoney(min)} – ${formatMoney(max)}`;
  };

  return (
    <div className="stack">
      <div className="toolbar">
        <div className="search-box toolbar-search">
          <Icon name="search" className="icon icon-xs" />
          <input type="search" aria-label={t("catalog.search")} placeholder={t("catalog.search")} value={search} onChange={(e) => setSearch(e.target.value)} data-testid="products-search" />
        </div>
        <div className="toolbar-actions">
          <button type="button" className="btn btn-primary btn-sm" onClick={() => setEditing("new")} data-testid="product-new">
            {t("catalog.new")}
          </button>
        </div>
      </div>
      {error ? (
        <Alert kind="error" testId="products-error">
          {error}
        </Alert>
      ) : null}
      <div className="card card-flush">
        {products === null ? (
          <Spinner />
        ) : products.length === 0 ? (
          <EmptyState icon={<Icon name="orders" className="icon icon-xl" />} title={t("catalog.empty")}>
            {t("catalog.emptyText")}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="products-table">
              <thead>
                <tr>
                  <th>{t("catalog.name")}</th>
                  <th>{t("catalog.variants")}</th>
                  <th>{t("catalog.price")}</th>
                  <th>{t("catalog.stock")}</th>
                  <th className="actions" />
                </tr>
              </thead>
              <tbody>
                {products.map((p) => (
                  <tr key={p.id} data-testid={`product-row-${p.id}`} className={p.active ? undefined : "row-inactive"}>
                    <td data-label={t("catalog.name")}>
                      <strong>{p.name}</strong>
                      {!p.active ? <span className="badge badge-closed">{t("catalog.inactive")}</span> : null}
                    </td>
                    <td data-label={t("catalog.variants")} className="small">
                      {p.variants
                        .filter((v) => v.active !== false)
                        .map((v) => [v.size, v.color].filter(Boolean).join("/") || v.sku)
                        .join(", ")}
                    </td>
                    <td data-label={t("catalog.price")}>{priceRange(p)}</td>
                    <td data-label={t("catalog.stock")}>{p.variants.filter((v) => v.active !== false).reduce((s, v) => s + (Number(v.stock) || 0), 0)}</td>
                    <td className="actions">
                      <button type="button" className="btn btn-ghost btn-sm" onClick={() => setEditing(p)} data-testid={`product-edit-${p.id}`}>
                        {t("common.edit")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {nextCursor ? (
          <div className="center list-more">
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => void loadMore()} data-testid="products-load-more">
              {t("inbox.loadMore")}
            </button>
          </div>
        ) : null}
      </div>
      {editing ? (
        <Modal title={editing === "new" ? t("catalog.new") : t("catalog.edit")} onClose={() => setEditing(null)} testId="product-dialog" wide>
          <ProductForm product={editing === "new" ? null : editing} onSaved={onSaved} onCancel={() => setEditing(null)} />
        </Modal>
      ) : null}
    </div>
  );
}
