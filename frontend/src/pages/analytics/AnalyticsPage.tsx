import { ComingSoon } from "../../components/ComingSoon";

export function AnalyticsPage() {
  return <ComingSoon titleKey="nav.analytics" textKey="page.analytics.text" icon="analytics" />;
}
