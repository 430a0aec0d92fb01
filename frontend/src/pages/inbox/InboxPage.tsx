import { ComingSoon } from "../../components/ComingSoon";

export function InboxPage() {
  return <ComingSoon titleKey="nav.inbox" textKey="page.inbox.text" icon="inbox" />;
}
