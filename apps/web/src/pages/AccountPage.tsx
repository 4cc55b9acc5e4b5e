import { FormEvent, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { get, post, SessionInfo } from '../api';
import { ErrorNote, Loading, PageTitle } from '../ui';

/** The account's time zone and its API token (shown on request, rotated on request). */
export function AccountPage() {
  const queries = useQueryClient();
  const account = useQuery({
    queryKey: ['account'],
    queryFn: () => get<{ email: string; timezone: string }>('/v1/account'),
  });
  const [zone, setZone] = useState<string>();
  const [shown, setShown] = useState(false);
  const token = useQuery({
    queryKey: ['api-token'],
    queryFn: () => get<{ token: string }>('/v1/account/token').then((a) => a.token),
    enabled: shown,
  });
  const saveZone = useMutation({
    mutationFn: () => post<{ timezone: string }>('/v1/account', { timezone: zone }),
    onSuccess: (answer) => {
      queries.setQueryData(['account'], (old: object) => ({ ...old, timezone: answer.timezone }));
      queries.setQueryData(['session'], (old: SessionInfo) => ({ ...old, timezone: answer.timezone }));
    },
  });
  const rotate = useMutation({
    mutationFn: () => post<{ token: string }>('/v1/account/token'),
    onSuccess: (answer) => {
      queries.setQueryData(['api-token'], answer.token);
      setShown(true);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    saveZone.mutate();
  };
  if (account.isPending) return <Loading what="your account" />;
  if (account.error) return <ErrorNote error={account.error} retry={() => void account.refetch()} />;
  return (
    <section>
      <PageTitle>Account</PageTitle>
      <p>Signed in as {account.data.email}.</p>
      <form className="inline" onSubmit={submit}>
        <label>
          Time zone (dates of the API, e.g. Europe/Paris)
          <input
            name="timezone"
            list="zones"
            value={zone ?? account.data.timezone}
            onChange={(e) => setZone(e.target.value)}
          />
          <datalist id="zones">
            {Intl.supportedValuesOf('timeZone').map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
        <button type="submit" disabled={saveZone.isPending || zone === undefined}>
          Save
        </button>
        {saveZone.isSuccess && (
          <span role="status" className="saved">
            Saved
          </span>
        )}
        {saveZone.error && <ErrorNote error={saveZone.error} />}
      </form>
      <h2>API token</h2>
      <p className="muted">What scripts use (token=… or Authorization: Bearer …). Keep it secret.</p>
      {shown ? (
        token.data ? (
          <p>
            <code data-testid="api-token">{token.data}</code>
          </p>
        ) : (
          <Loading what="the token" />
        )
      ) : (
        <button type="button" onClick={() => setShown(true)}>
          Show the token
        </button>
      )}{' '}
      <button
        type="button"
        className="danger"
        onClick={() => {
          if (window.confirm('Replace the API token? Scripts using the current one stop working.'))
            rotate.mutate();
        }}
        disabled={rotate.isPending}
      >
        Replace the token
      </button>
      {token.error && <ErrorNote error={token.error} />}
      {rotate.error && <ErrorNote error={rotate.error} />}
      <h2>Phones</h2>
      <p>
        The registration token for SMSGate phones is on <Link to="/devices/add">Add a phone</Link>.
      </p>
    </section>
  );
}
