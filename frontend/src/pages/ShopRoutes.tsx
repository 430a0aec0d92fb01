import type { ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { Spinner } from "../components/Spinner";
import { useSession } from "../session";
import { AnalyticsPage } from "./analytics/AnalyticsPage";
import { ForgotPasswordPage } from "./auth/ForgotPasswordPage";
import { InvitePage } from "./auth/InvitePage";
import { LoginPage, type LoginLocationState } from "./auth/LoginPage";
import { ResetPasswordPage } from "./auth/ResetPasswordPage";
import { BroadcastComposePage } from "./broadcasts/BroadcastComposePage";
import { BroadcastDetailPage } from "./broadcasts/BroadcastDetailPage";
import { BroadcastReviewPage } from "./broadcasts/BroadcastReviewPage";
import { BroadcastsPage } from "./broadcasts/BroadcastsPage";
import { ContactDetailPage } from "./contacts/ContactDetailPage";
import { ContactsLayout } from "./contacts/ContactsLayout";
import { ContactsPage } from "./contacts/ContactsPage";
import { DashboardLayout } from "./dashboard/DashboardLayout";
import { InboxPage } from "./inbox/InboxPage";
import { NotFoundPage } from "./NotFoundPage";
import { CatalogPage } from "./orders/CatalogPage";
import { OrderDetailPage } from "./orders/OrderDetailPage";
import { OrdersLayout } from "./orders/OrdersLayout";
import { OrdersPage } from "./orders/OrdersPage";
import { PipelinePage } from "./pipeline/PipelinePage";
import { SettingsLayout } from "./settings/SettingsLayout";
import { TeamPage } from "./settings/TeamPage";
import { TokensPage } from "./settings/TokensPage";
import { AutoRepliesPage } from "./settings/AutoRepliesPage";
import { BillingPage } from "./settings/BillingPage";
import { QuickRepliesPage } from "./settings/QuickRepliesPage";
import { ContactFieldsPage } from "./settings/ContactFieldsPage";
import { OrderNotificationsPage } from "./settings/OrderNotificationsPage";
import { OptOutPage } from "./settings/OptOutPage";
import { DataPage } from "./settings/DataPage";
import { SegmentsPage } from "./segments/SegmentsPage";
import { AuditLogPage } from "./settings/AuditLogPage";
import { ShopPage } from "./settings/ShopPage";
import { WhatsAppPage } from "./settings/WhatsAppPage";

function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useSession();
  const location = useLocation();
  if (status === "loading") return <Spinner full />;
  if (status === "anonymous") {
    const state: LoginLocationState = { from: location.pathname + location.search };
    return <Navigate to="/login" replace state={state} />;
  }
  return <>{children}</>;
}

export function ShopRoutes() {
  const { status } = useSession();
  return (
    <Routes>
      <Route path="/login" element={status === "loading" ? <Spinner full /> : <LoginPage />} />
      <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      <Route path="/reset-password/:uid/:token" element={<ResetPasswordPage />} />
      <Route path="/invite/:token" element={<InvitePage />} />
      <Route
        element={
          <RequireAuth>
            <DashboardLayout />
          </RequireAuth>
        }
      >
        <Route index element={<Navigate to="/inbox" replace />} />
        <Route path="inbox/:conversationId?" element={<InboxPage />} />
        <Route path="contacts" element={<ContactsLayout />}>
          <Route index element={<ContactsPage />} />
          <Route path="segments" element={<SegmentsPage />} />
        </Route>
        <Route path="contacts/:contactId" element={<ContactDetailPage />} />
        <Route path="orders" element={<OrdersLayout />}>
          <Route index element={<OrdersPage />} />
          <Route path="catalog" element={<CatalogPage />} />
          <Route path=":orderId" element={<OrderDetailPage />} />
        </Route>
        <Route path="pipeline" element={<PipelinePage />} />
        <Route path="broadcasts" element={<BroadcastsPage />} />
        <Route path="broadcasts/new" element={<BroadcastComposePage />} />
        <Route path="broadcasts/:broadcastId/edit" element={<BroadcastComposePage />} />
        <Route path="broadcasts/:broadcastId/review" element={<BroadcastReviewPage />} />
        <Route path="broadcasts/:broadcastId" element={<BroadcastDetailPage />} />
        <Route path="analytics" element={<AnalyticsPage />} />
        <Route path="settings" element={<SettingsLayout />}>
          <Route index element={<Navigate to="/settings/team" replace />} />
          <Route path="team" element={<TeamPage />} />
          <Route path="tokens" element={<TokensPage />} />
          <Route path="whatsapp" element={<WhatsAppPage />} />
          <Route path="auto-replies" element={<AutoRepliesPage />} />
          <Route path="quick-replies" element={<QuickRepliesPage />} />
          <Route path="contact-fields" element={<ContactFieldsPage />} />
          <Route path="order-notifications" element={<OrderNotificationsPage />} />
          <Route path="opt-out" element={<OptOutPage />} />
          <Route path="billing" element={<BillingPage />} />
          <Route path="audit" element={<AuditLogPage />} />
          <Route path="shop" element={<ShopPage />} />
          <Route path="data" element={<DataPage />} />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
