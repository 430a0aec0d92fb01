import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type Invitation, type Member } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { CopyBox } from "../../components/CopyBox";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import type { Role } from "../../config";
import { useI18n } from "../../i18n";
import { useFormatDate, useSession } from "../../session";

/** Roles the current user may hand out: owners can make owners, admins only admins/agents. */
export function assignableRoles(myRole: Role | undefined): Role[] {
  if (myRole === "owner") return ["owner", "admin", "agent"];
  if (myRole === "admin") return ["admin", "agent"];
  return [];
}

export function TeamPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const formatDate = useFormatDate();
  const myRole = session?.role;
  const canManage = myRole === "owner" || myRole === "admin";
  const roles = assignableRoles(myRole);

  const [members, setMembers] = useState<Member[] | null>(null);
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);

  const [inviteEmail, setInviteEmail] = useState("");
  const [inviteRole, setInviteRole] = useState<Role>("agent");
  const [inviteErrors, setInviteErrors] = useState<Record<string, string[]>>({});
  const [inviteAlert, setInviteAlert] = useState<string[]>([]);
  const [inviting, setInviting] = useState(false);
  const [lastInvite, setLastInvite] = useState<Invitation | null>(null);

  useEffect(() => {
    let cancelled = false;
    Promise.all([endpoints.members(), canManage ? endpoints.invitations() : Promise.resolve([] as Invitation[])])
      .then(([m, i]) => {
        if (cancelled) return;
        setMembers(m);
        setInvitations(i);
      })
      .catch((err) => {
        if (cancelled) return;
        setMembers([]);
        setError(errorMessage(err, t));
      });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canManage]);

  async function onInvite(e: FormEvent) {
    e.preventDefault();
    setInviting(true);
    setInviteErrors({});
    setInviteAlert([]);
    try {
      const invitation = await endpoints.createInvitation(inviteEmail.trim(), inviteRole);
      setInvitations((list) => [invitation, ...list.filter((i) => i.id !== invitation.id)]);
      setLastInvite(invitation);
      setInviteEmail("");
    } catch (err) {
      const split = splitErrors(err, ["email", "role"], t);
      setInviteErrors(split.fields);
      setInviteAlert(split.alert);
    } finally {
      setInviting(false);
    }
  }

  async function run(busyKey: string, action: () => Promise<void>) {
    setBusyId(busyKey);
    setError(null);
    setNotice(null);
    try {
      await action();
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusyId(null);
    }
  }

  const changeRole = (member: Member, role: Role) =>
    run(`m${member.id}`, async () => {
      const updated = await endpoints.updateMember(member.id, role);
      setMembers((list) => (list ?? []).map((m) => (m.id === member.id ? { ...m, ...(updated ?? {}), role: updated?.role ?? role } : m)));
      setNotice(t("team.roleChanged"));
    });

  const removeMember = (member: Member) => {
    if (!window.confirm(t("team.confirmRemove", { name: member.name || member.email }))) return;
    void run(`m${member.id}`, async () => {
      await endpoints.removeMember(member.id);
      setMembers((list) => (list ?? []).filter((m) => m.id !== member.id));
    });
  };

  const revokeInvitation = (invitation: Invitation) =>
    run(`i${invitation.id}`, async () => {
      await endpoints.revokeInvitation(invitation.id);
      setInvitations((list) => list.filter((i) => i.id !== invitation.id));
      if (lastInvite?.id === invitation.id) setLastInvite(null);
    });

  if (members === null) return <Spinner />;

  return (
    <div className="stack">
      {error ? (
        <Alert kind="error" testId="team-error">
          {error}
        </Alert>
      ) : null}
      {notice ? <Alert kind="success">{notice}</Alert> : null}

      {canManage ? (
        <div className="card">
          <h2>{t("team.invite")}</h2>
          <form className="form inline-form" onSubmit={onInvite} noValidate data-testid="invite-form">
            <ErrorAlert messages={inviteAlert} />
            <div className="inline-fields">
              <Field id="invite_email" type="email" label={t("team.inviteEmail")} value={inviteEmail} onChange={(e) => setInviteEmail(e.target.value)} errors={inviteErrors.email} required autoComplete="off" />
              <div className={`field${inviteErrors.role ? " field-invalid" : ""}`}>
                <label htmlFor="invite_role">{t("team.inviteRole")}</label>
                <select id="invite_role" name="invite_role" value={inviteRole} onChange={(e) => setInviteRole(e.target.value as Role)}>
                  {roles.map((r) => (
                    <option key={r} value={r}>
                      {t(`role.${r}`)}
                    </option>
                  ))}
                </select>
                {inviteErrors.role ? (
                  <div className="field-error" id="invite_role-error" data-testid="invite_role-error">
                    {inviteErrors.role.join(" ")}
                  </div>
                ) : null}
              </div>
              <div className="field field-button">
                <button type="submit" className="btn btn-primary" disabled={inviting} data-testid="invite-submit">
                  {t("team.inviteSubmit")}
                </button>
              </div>
            </div>
          </form>
          {lastInvite ? (
            <div className="invite-result">
              <label className="label">{t("team.inviteLink")}</label>
              <CopyBox value={lastInvite.accept_url} testId="invite-link" label={t("team.inviteLink")} />
              <p className="muted small">{t("team.inviteLinkHelp")}</p>
            </div>
          ) : null}
        </div>
      ) : (
        <p className="muted" data-testid="team-readonly">
          {t("team.readOnly")}
        </p>
      )}

      <div className="card">
        <h2>{t("team.members")}</h2>
        {members.length === 0 ? (
          <p className="muted">{t("team.noMembers")}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="members-table">
              <thead>
                <tr>
                  <th>{t("team.name")}</th>
                  <th>{t("team.email")}</th>
                  <th>{t("team.role")}</th>
                  <th>{t("team.joined")}</th>
                  {canManage ? <th className="actions">{t("team.actions")}</th> : null}
                </tr>
              </thead>
              <tbody>
                {members.map((m) => {
                  const isMe = m.user_id === session?.user.id;
                  // Admins cannot change or remove owners.
                  const editable = canManage && roles.includes(m.role);
                  return (
                    <tr key={m.id} data-testid={`member-row-${m.id}`}>
                      <td data-label={t("team.name")}>
                        <span>
                          {m.name}
                          {isMe ? <span className="badge badge-me">{t("team.you")}</span> : null}
                        </span>
                      </td>
                      <td data-label={t("team.email")}>{m.email}</td>
                      <td data-label={t("team.role")}>
                        {editable ? (
                          <select
                            aria-label={`${t("team.role")}: ${m.name}`}
                            value={m.role}
                            disabled={busyId === `m${m.id}`}
                            data-testid={`member-role-${m.id}`}
                            onChange={(e) => void changeRole(m, e.target.value as Role)}
                          >
                            {roles.map((r) => (
                              <option key={r} value={r}>
                                {t(`role.${r}`)}
                              </option>
                            ))}
                          </select>
                        ) : (
                          <span className={`role role-${m.role}`}>{t(`role.${m.role}`)}</span>
                        )}
                      </td>
                      <td data-label={t("team.joined")}>{formatDate(m.joined_at)}</td>
                      {canManage ? (
                        <td className="actions">
                          {editable ? (
                            <button type="button" className="btn btn-danger-ghost btn-sm" disabled={busyId === `m${m.id}`} data-testid={`member-remove-${m.id}`} onClick={() => removeMember(m)}>
                              {t("team.remove")}
                            </button>
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </div>

      {canManage ? (
        <div className="card">
          <h2>{t("team.pending")}</h2>
          {invitations.length === 0 ? (
            <p className="muted">{t("team.noPending")}</p>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="invitations-table">
                <thead>
                  <tr>
                    <th>{t("team.email")}</th>
                    <th>{t("team.role")}</th>
                    <th>{t("team.created")}</th>
                    <th>{t("team.expires")}</th>
                    <th className="actions">{t("team.actions")}</th>
                  </tr>
                </thead>
                <tbody>
                  {invitations.map((i) => (
                    <tr key={i.id} data-testid={`invitation-row-${i.id}`}>
                      <td data-label={t("team.email")}>{i.email}</td>
                      <td data-label={t("team.role")}>
                        <span className={`role role-${i.role}`}>{t(`role.${i.role}`)}</span>
                      </td>
                      <td data-label={t("team.created")}>{formatDate(i.created_at)}</td>
                      <td data-label={t("team.expires")}>{formatDate(i.expires_at)}</td>
                      <td className="actions">
                        <button type="button" className="btn btn-danger-ghost btn-sm" disabled={busyId === `i${i.id}`} data-testid={`invitation-revoke-${i.id}`} onClick={() => void revokeInvitation(i)}>
                          {t("team.revoke")}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      ) : null}
    </div>
  );
}
