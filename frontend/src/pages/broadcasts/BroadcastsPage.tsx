import { ComingSoon } from "../../components/ComingSoon";

export function BroadcastsPage() {
  return <ComingSoon titleKey="nav.broadcasts" textKey="page.broadcasts.text" icon="broadcasts" />;
}
