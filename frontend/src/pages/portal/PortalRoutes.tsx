import { Route, Routes } from "react-router-dom";
import { LandingPage } from "./LandingPage";
import { SignupPage } from "./SignupPage";

export function PortalRoutes() {
  return (
    <Routes>
      <Route path="/" element={<SignupPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path="*" element={<LandingPage />} />
    </Routes>
  );
}
