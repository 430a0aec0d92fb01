import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Lang, WarungConfig } from "./config";

const id = {
  "app.name": "Warung CRM",
  "lang.label": "Bahasa",
  "lang.id": "Bahasa Indonesia",
  "lang.en": "English",

  "common.loading": "Memuat…",
  "common.optional": "opsional",
  "common.copy": "Salin",
  "common.copied": "Tersalin!",
  "common.cancel": "Batal",
  "common.never": "Belum pernah",
  "common.comingSoon": "Segera hadir",
  "common.backToLogin": "Kembali ke halaman masuk",
  "error.generic": "Terjadi kesalahan. Silakan coba lagi.",
  "error.network": "Tidak dapat terhubung ke server. Periksa koneksi internet Anda.",
  "error.forbidden": "Anda tidak memiliki izin untuk tindakan ini.",

  "role.owner": "Pemilik",
  "role.admin": "Admin",
  "role.agent": "Agen",

  "portal.tagline": "CRM sederhana untuk toko yang berjualan lewat WhatsApp.",
  "portal.landingTitle": "Kelola pelanggan WhatsApp Anda di satu tempat",
  "portal.landingText": "Kotak masuk bersama, kontak, pesanan, dan siaran untuk toko kecil di Indonesia.",
  "portal.cta": "Buka toko gratis",
  "portal.staffNote": "Staf toko? Masuk melalui alamat subdomain toko Anda, misalnya namatoko.{domain}.",
  "portal.haveShop": "Sudah punya toko? Masuk lewat subdomain toko Anda.",

  "signup.title": "Buat toko Anda",
  "signup.subtitle": "Coba gratis. Tidak perlu kartu kredit.",
  "signup.shopName": "Nama toko",
  "signup.subdomain": "Subdomain yang diinginkan",
  "signup.subdomainHelp": "Huruf kecil, angka, dan tanda hubung.",
  "signup.checking": "Memeriksa ketersediaan…",
  "signup.available": "Tersedia",
  "signup.unavailable": "Tidak tersedia",
  "signup.ownerName": "Nama pemilik",
  "signup.email": "Email",
  "signup.password": "Kata sandi",
  "signup.phone": "Nomor telepon",
  "signup.submit": "Buat toko",
  "signup.submitting": "Membuat toko…",

  "login.title": "Masuk",
  "login.subtitle": "Masuk ke {shop}",
  "login.email": "Email",
  "login.password": "Kata sandi",
  "login.submit": "Masuk",
  "login.submitting": "Sedang masuk…",
  "login.forgot": "Lupa kata sandi?",

  "forgot.title": "Lupa kata sandi",
  "forgot.text": "Masukkan email Anda dan kami akan mengirim tautan untuk mengatur ulang kata sandi.",
  "forgot.email": "Email",
  "forgot.submit": "Kirim tautan",
  "forgot.sent": "Jika alamat tersebut terdaftar, kami telah mengirim tautan untuk mengatur ulang kata sandi.",

  "reset.title": "Atur ulang kata sandi",
  "reset.newPassword": "Kata sandi baru",
  "reset.submit": "Simpan kata sandi",
  "reset.success": "Kata sandi Anda telah diubah. Silakan masuk.",

  "invite.title": "Terima undangan",
  "invite.text": "Anda diundang ke {shop} sebagai {role}.",
  "invite.email": "Email",
  "invite.name": "Nama Anda",
  "invite.password": "Kata sandi",
  "invite.submit": "Terima dan gabung",
  "invite.invalid": "Undangan tidak valid atau sudah kedaluwarsa.",
  "invite.invalidHelp": "Minta pemilik atau admin toko untuk mengirim undangan baru.",

  "nav.inbox": "Kotak masuk",
  "nav.contacts": "Kontak",
  "nav.orders": "Pesanan",
  "nav.pipeline": "Pipeline",
  "nav.broadcasts": "Siaran",
  "nav.analytics": "Analitik",
  "nav.settings": "Pengaturan",
  "nav.logout": "Keluar",
  "nav.menu": "Menu",
  "nav.main": "Navigasi utama",

  "shop.trial": "Masa uji coba",

  "page.inbox.text": "Percakapan WhatsApp dengan pelanggan akan muncul di sini, dibagikan ke seluruh tim.",
  "page.contacts.text": "Daftar pelanggan, label, dan riwayat pembelian mereka akan muncul di sini.",
  "page.orders.text": "Catat dan pantau pesanan dari chat sampai terkirim.",
  "page.pipeline.text": "Lihat prospek Anda bergerak dari tanya-tanya sampai membeli.",
  "page.broadcasts.text": "Kirim pesan promosi ke banyak pelanggan sekaligus.",
  "page.analytics.text": "Penjualan, waktu respons, dan performa tim dalam satu tampilan.",
  "page.notFound": "Halaman tidak ditemukan",
  "page.notFoundText": "Halaman yang Anda cari tidak ada.",

  "settings.title": "Pengaturan",
  "settings.team": "Tim",
  "settings.tokens": "Token API",

  "team.members": "Anggota",
  "team.name": "Nama",
  "team.email": "Email",
  "team.role": "Peran",
  "team.joined": "Bergabung",
  "team.actions": "Tindakan",
  "team.remove": "Hapus",
  "team.you": "Anda",
  "team.confirmRemove": "Hapus {name} dari tim?",
  "team.noMembers": "Belum ada anggota.",
  "team.invite": "Undang anggota",
  "team.inviteEmail": "Email",
  "team.inviteRole": "Peran",
  "team.inviteSubmit": "Kirim undangan",
  "team.inviteLink": "Tautan undangan",
  "team.inviteLinkHelp": "Bagikan tautan ini kepada orang yang diundang (misalnya lewat WhatsApp) jika email tidak sampai.",
  "team.pending": "Undangan tertunda",
  "team.noPending": "Tidak ada undangan tertunda.",
  "team.created": "Dibuat",
  "team.expires": "Kedaluwarsa",
  "team.revoke": "Cabut",
  "team.readOnly": "Hanya pemilik dan admin yang dapat mengubah tim.",
  "team.roleChanged": "Peran diperbarui.",

  "tokens.title": "Token API",
  "tokens.intro": "Token API memungkinkan sistem lain mengakses data toko Anda. Perlakukan seperti kata sandi.",
  "tokens.name": "Nama token",
  "tokens.create": "Buat token",
  "tokens.secretTitle": "Token baru Anda",
  "tokens.secretWarning": "Salin token ini sekarang. Token hanya ditampilkan sekali dan tidak dapat dilihat lagi.",
  "tokens.prefix": "Awalan",
  "tokens.created": "Dibuat",
  "tokens.lastUsed": "Terakhir dipakai",
  "tokens.createdBy": "Dibuat oleh",
  "tokens.revoke": "Cabut",
  "tokens.confirmRevoke": "Cabut token \"{name}\"? Sistem yang memakainya akan berhenti bekerja.",
  "tokens.empty": "Belum ada token API.",
  "tokens.forbidden": "Hanya pemilik dan admin yang dapat mengelola token API.",

  "suspended.title": "Toko ini ditangguhkan",
  "suspended.text": "Akses ke toko ini sementara dinonaktifkan. Hubungi dukungan Warung CRM untuk informasi lebih lanjut.",
};

export type TKey = keyof typeof id;

const en: Record<TKey, string> = {
  "app.name": "Warung CRM",
  "lang.label": "Language",
  "lang.id": "Bahasa Indonesia",
  "lang.en": "English",

  "common.loading": "Loading…",
  "common.optional": "optional",
  "common.copy": "Copy",
  "common.copied": "Copied!",
  "common.cancel": "Cancel",
  "common.never": "Never",
  "common.comingSoon": "Coming soon",
  "common.backToLogin": "Back to sign in",
  "error.generic": "Something went wrong. Please try again.",
  "error.network": "Cannot reach the server. Check your internet connection.",
  "error.forbidden": "You do not have permission to do this.",

  "role.owner": "Owner",
  "role.admin": "Admin",
  "role.agent": "Agent",

  "portal.tagline": "A simple CRM for shops that sell over WhatsApp.",
  "portal.landingTitle": "Manage your WhatsApp customers in one place",
  "portal.landingText": "Shared inbox, contacts, orders and broadcasts for small Indonesian shops.",
  "portal.cta": "Open your shop for free",
  "portal.staffNote": "Shop staff? Sign in on your shop's subdomain, e.g. yourshop.{domain}.",
  "portal.haveShop": "Already have a shop? Sign in on your shop's subdomain.",

  "signup.title": "Create your shop",
  "signup.subtitle": "Free trial. No credit card needed.",
  "signup.shopName": "Shop name",
  "signup.subdomain": "Desired subdomain",
  "signup.subdomainHelp": "Lowercase letters, digits and hyphens.",
  "signup.checking": "Checking availability…",
  "signup.available": "Available",
  "signup.unavailable": "Not available",
  "signup.ownerName": "Owner name",
  "signup.email": "Email",
  "signup.password": "Password",
  "signup.phone": "Phone",
  "signup.submit": "Create shop",
  "signup.submitting": "Creating shop…",

  "login.title": "Sign in",
  "login.subtitle": "Sign in to {shop}",
  "login.email": "Email",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.submitting": "Signing in…",
  "login.forgot": "Forgot password?",

  "forgot.title": "Forgot password",
  "forgot.text": "Enter your email and we will send you a link to reset your password.",
  "forgot.email": "Email",
  "forgot.submit": "Send link",
  "forgot.sent": "If the address is registered, we sent a link to reset your password.",

  "reset.title": "Reset password",
  "reset.newPassword": "New password",
  "reset.submit": "Save password",
  "reset.success": "Your password has been changed. Please sign in.",

  "invite.title": "Accept invitation",
  "invite.text": "You have been invited to {shop} as {role}.",
  "invite.email": "Email",
  "invite.name": "Your name",
  "invite.password": "Password",
  "invite.submit": "Accept and join",
  "invite.invalid": "This invitation is invalid or has expired.",
  "invite.invalidHelp": "Ask the shop's owner or an admin to send you a new invitation.",

  "nav.inbox": "Inbox",
  "nav.contacts": "Contacts",
  "nav.orders": "Orders",
  "nav.pipeline": "Pipeline",
  "nav.broadcasts": "Broadcasts",
  "nav.analytics": "Analytics",
  "nav.settings": "Settings",
  "nav.logout": "Log out",
  "nav.menu": "Menu",
  "nav.main": "Main navigation",

  "shop.trial": "Trial",

  "page.inbox.text": "Your WhatsApp conversations with customers will appear here, shared with the whole team.",
  "page.contacts.text": "Your customers, their labels and purchase history will appear here.",
  "page.orders.text": "Record and track orders from chat to delivery.",
  "page.pipeline.text": "See your leads move from first question to purchase.",
  "page.broadcasts.text": "Send promotional messages to many customers at once.",
  "page.analytics.text": "Sales, response times and team performance at a glance.",
  "page.notFound": "Page not found",
  "page.notFoundText": "The page you are looking for does not exist.",

  "settings.title": "Settings",
  "settings.team": "Team",
  "settings.tokens": "API tokens",

  "team.members": "Members",
  "team.name": "Name",
  "team.email": "Email",
  "team.role": "Role",
  "team.joined": "Joined",
  "team.actions": "Actions",
  "team.remove": "Remove",
  "team.you": "You",
  "team.confirmRemove": "Remove {name} from the team?",
  "team.noMembers": "No members yet.",
  "team.invite": "Invite a member",
  "team.inviteEmail": "Email",
  "team.inviteRole": "Role",
  "team.inviteSubmit": "Send invitation",
  "team.inviteLink": "Invitation link",
  "team.inviteLinkHelp": "Share this link with the invitee (e.g. over WhatsApp) in case the email does not arrive.",
  "team.pending": "Pending invitations",
  "team.noPending": "No pending invitations.",
  "team.created": "Created",
  "team.expires": "Expires",
  "team.revoke": "Revoke",
  "team.readOnly": "Only owners and admins can change the team.",
  "team.roleChanged": "Role updated.",

  "tokens.title": "API tokens",
  "tokens.intro": "API tokens let other systems access your shop's data. Treat them like passwords.",
  "tokens.name": "Token name",
  "tokens.create": "Create token",
  "tokens.secretTitle": "Your new token",
  "tokens.secretWarning": "Copy this token now. It is shown only once and cannot be retrieved later.",
  "tokens.prefix": "Prefix",
  "tokens.created": "Created",
  "tokens.lastUsed": "Last used",
  "tokens.createdBy": "Created by",
  "tokens.revoke": "Revoke",
  "tokens.confirmRevoke": "Revoke token \"{name}\"? Systems using it will stop working.",
  "tokens.empty": "No API tokens yet.",
  "tokens.forbidden": "Only owners and admins can manage API tokens.",

  "suspended.title": "This shop is suspended",
  "suspended.text": "Access to this shop has been disabled. Please contact Warung CRM support for more information.",
};

export const dictionaries: Record<Lang, Record<TKey, string>> = { id, en };

export const LANG_STORAGE_KEY = "warung.lang";
export const LOCALES: Record<Lang, string> = { id: "id-ID", en: "en-GB" };

function isLang(value: unknown): value is Lang {
  return value === "id" || value === "en";
}

/** localStorage "warung.lang" → shop locale → "id". */
export function initialLang(config?: Pick<WarungConfig, "shop"> | null): Lang {
  try {
    const stored = window.localStorage.getItem(LANG_STORAGE_KEY);
    if (isLang(stored)) return stored;
  } catch {
    /* storage unavailable */
  }
  const shopLocale = config?.shop?.locale;
  return isLang(shopLocale) ? shopLocale : "id";
}

export type Vars = Record<string, string | number>;

export function translate(lang: Lang, key: TKey, vars?: Vars): string {
  const template = dictionaries[lang][key] ?? dictionaries.id[key] ?? key;
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export interface I18nValue {
  lang: Lang;
  locale: string;
  setLang: (lang: Lang) => void;
  t: (key: TKey, vars?: Vars) => string;
}

const I18nContext = createContext<I18nValue>({
  lang: "id",
  locale: LOCALES.id,
  setLang: () => {},
  t: (key, vars) => translate("id", key, vars),
});

export function I18nProvider({ initial, children }: { initial: Lang; children?: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initial);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      window.localStorage.setItem(LANG_STORAGE_KEY, next);
    } catch {
      /* storage unavailable */
    }
  }, []);

  const value = useMemo<I18nValue>(
    () => ({ lang, locale: LOCALES[lang], setLang, t: (key, vars) => translate(lang, key, vars) }),
    [lang, setLang],
  );
  return createElement(I18nContext.Provider, { value }, children);
}

export function useI18n(): I18nValue {
  return useContext(I18nContext);
}
