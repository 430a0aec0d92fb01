import { useEffect, useState, type ChangeEvent, type FormEvent } from "react";
import { endpoints, type SignupPayload, type SubdomainCheck } from "../../api";
import { redirectTo } from "../../browser";
import { AuthLayout } from "../../components/AuthLayout";
import { ErrorAlert } from "../../components/Alert";
import { splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { useConfig } from "../../config";
import { useI18n } from "../../i18n";

const FIELDS = ["shop_name", "subdomain", "owner_name", "email", "password", "phone"] as const;
type FieldName = (typeof FIELDS)[number];

export const SUBDOMAIN_CHECK_DELAY_MS = 400;

type Availability = { state: "idle" } | { state: "checking" } | { state: "done"; subdomain: string; result: SubdomainCheck };

function useSubdomainAvailability(subdomain: string): Availability {
  const [availability, setAvailability] = useState<Availability>({ state: "idle" });
  useEffect(() => {
    const value = subdomain.trim();
    if (!value) {
      setAvailability({ state: "idle" });
      return;
    }
    let cancelled = false;
    setAvailability({ state: "checking" });
    const timer = window.setTimeout(async () => {
      try {
        const result = await endpoints.subdomainCheck(value);
        if (!cancelled) setAvailability({ state: "done", subdomain: value, result });
      } catch {
        if (!cancelled) setAvailability({ state: "idle" });
      }
    }, SUBDOMAIN_CHECK_DELAY_MS);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [subdomain]);
  return availability;
}

export function SignupPage() {
  const { t } = useI18n();
  const { platformDomain } = useConfig();
  const [values, setValues] = useState<Record<FieldName, string>>({
    shop_name: "",
    subdomain: "",
    owner_name: "",
    email: "",
    password: "",
    phone: "",
  });
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const availability = useSubdomainAvailability(values.subdomain);

  const set = (name: FieldName) => (e: ChangeEvent<HTMLInputElement>) => {
    const value = name === "subdomain" ? e.target.value.toLowerCase().replace(/\s+/g, "") : e.target.value;
    setValues((v) => ({ ...v, [name]: value }));
  };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitting(true);
    setAlert([]);
    setFieldErrors({});
    const payload: SignupPayload = {
      shop_name: values.shop_name.trim(),
      subdomain: values.subdomain.trim(),
      owner_name: values.owner_name.trim(),
      email: values.email.trim(),
      password: values.password,
    };
    if (values.phone.trim()) payload.phone = values.phone.trim();
    try {
      const { redirect_url } = await endpoints.signup(payload);
      redirectTo(redirect_url);
      // Keep the button disabled while the browser navigates away.
    } catch (err) {
      const split = splitErrors(err, FIELDS, t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
      setSubmitting(false);
    }
  }

  let status = null;
  if (availability.state === "checking") {
    status = <span className="availability checking">{t("signup.checking")}</span>;
  } else if (availability.state === "done") {
    status = availability.result.available ? (
      <span className="availability ok" data-testid="subdomain-status">
        ✓ {t("signup.available")}
      </span>
    ) : (
      <span className="availability bad" data-testid="subdomain-status">
        ✗ {availability.result.reason || t("signup.unavailable")}
      </span>
    );
  }

  return (
    <AuthLayout title={t("signup.title")} subtitle={t("signup.subtitle")}>
      <form onSubmit={onSubmit} noValidate className="form">
        <ErrorAlert messages={alert} />
        <Field id="shop_name" label={t("signup.shopName")} value={values.shop_name} onChange={set("shop_name")} errors={fieldErrors.shop_name} required autoComplete="organization" />
        <Field
          id="subdomain"
          label={t("signup.subdomain")}
          value={values.subdomain}
          onChange={set("subdomain")}
          errors={fieldErrors.subdomain}
          required
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          suffix={<span data-testid="subdomain-suffix">.{platformDomain}</span>}
          hint={
            <>
              <span className="hint-text">{t("signup.subdomainHelp")}</span> {status}
            </>
          }
        />
        <Field id="owner_name" label={t("signup.ownerName")} value={values.owner_name} onChange={set("owner_name")} errors={fieldErrors.owner_name} required autoComplete="name" />
        <Field id="email" type="email" label={t("signup.email")} value={values.email} onChange={set("email")} errors={fieldErrors.email} required autoComplete="email" />
        <Field id="password" type="password" label={t("signup.password")} value={values.password} onChange={set("password")} errors={fieldErrors.password} required autoComplete="new-password" />
        <Field id="phone" type="tel" label={t("signup.phone")} optionalLabel={t("common.optional")} value={values.phone} onChange={set("phone")} errors={fieldErrors.phone} autoComplete="tel" placeholder="+62…" />
        <button type="submit" className="btn btn-primary btn-block" disabled={submitting} data-testid="signup-submit">
          {submitting ? t("signup.submitting") : t("signup.submit")}
        </button>
        <p className="muted small center">{t("portal.haveShop")}</p>
      </form>
    </AuthLayout>
  );
}
