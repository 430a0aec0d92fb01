import { ComingSoon } from "../../components/ComingSoon";

export function ContactsPage() {
  return <ComingSoon titleKey="nav.contacts" textKey="page.contacts.text" icon="contacts" />;
}
