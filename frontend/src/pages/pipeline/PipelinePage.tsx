import { ComingSoon } from "../../components/ComingSoon";

export function PipelinePage() {
  return <ComingSoon titleKey="nav.pipeline" textKey="page.pipeline.text" icon="pipeline" />;
}
