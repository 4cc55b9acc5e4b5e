import { FormEvent, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { call, get, post } from '../api';
import { WEBHOOK_EVENTS, webhookBody } from '../lib/webhooks';
import { Empty, ErrorNote, Loading, PageTitle } from '../ui';
import { DEVICES_KEY, loadDevices } from './DevicesPage';

export interface Webhook {
  id: number;
  url: string;
  description: string;
  events: string[];
  device_ids: number[] | null;
  state: 'active' | 'paused' | 'disabled';
  paused: boolean;
  disabled_at: string | null;
  disabled_reason: string | null;
  failing_since: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export const WEBHOOKS_KEY = ['webhooks'];
const loadWebhooks = () => get<{ webhooks: Webhook[] }>('/v1/webhooks').then((answer) => answer.webhooks);

/** Pauses or resumes a subscription (resuming also restarts a disabled one, as the API does). */
export function usePause(onDone: (webhook: Webhook) => void) {
  return useMutation({
    mutationFn: ({ id, paused }: { id: number; paused: boolean }) =>
      post<{ webhook: Webhook }>(`/v1/webhooks/${id}`, { paused }).then((answer) => answer.webhook),
    onSuccess: onDone,
  });
}

export function useDelete(onDone: () => void) {
  return useMutation({
    mutationFn: (id: number) => call('DELETE', `/v1/webhooks/${id}`),
    onSuccess: onDone,
  });
}

/** The account's webhook subscriptions: create one (its secret shown once), pause, resume, delete. */
export function WebhooksPage() {
  const queries = useQueryClient();
  const webhooks = useQuery({ queryKey: WEBHOOKS_KEY, queryFn: loadWebhooks });
  const refresh = () => void queries.invalidateQueries({ queryKey: WEBHOOKS_KEY });
  const pause = usePause(refresh);
  const remove = useDelete(refresh);
  return (
    <section>
      <PageTitle>Webhooks</PageTitle>
      <p className="muted">
        Signed JSON POSTs to your URL for each event of your messages and phones, retried for days. How to
        verify them: docs/webhooks.md.
      </p>
      {webhooks.isPending && <Loading what="your webhooks" />}
      {webhooks.error && <ErrorNote error={webhooks.error} retry={() => void webhooks.refetch()} />}
      {webhooks.data?.length === 0 && <Empty>No webhooks yet.</Empty>}
      {webhooks.data && webhooks.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Your webhook subscriptions</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Phones</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {webhooks.data.map((hook) => (
                <tr key={hook.id} data-testid={`webhook-${hook.id}`}>
                  <td className="body-cell">
                    <Link to={`/webhooks/${hook.id}`}>{hook.url}</Link>
                    {hook.description && (
                      <>
                        <br />
                        <span className="muted">{hook.description}</span>
                      </>
                    )}
                  </td>
                  <td>{hook.events.join(', ')}</td>
                  <td>{hook.device_ids ? hook.device_ids.map((id) => `#${id}`).join(', ') : 'all'}</td>
                  <td data-testid="state">
                    <WebhookState hook={hook} />
                  </td>
                  <td>
                    <div className="actions">
                      <Link className="button secondary" to={`/webhooks/${hook.id}`}>
                        Deliveries
                      </Link>
                      <button
                        type="button"
                        className="secondary"
                        disabled={pause.isPending}
                        onClick={() => pause.mutate({ id: hook.id, paused: hook.state === 'active' })}
                      >
                        {hook.state === 'active' ? 'Pause' : 'Resume'}
                      </button>
                      <button
                        type="button"
                        className="danger"
                        disabled={remove.isPending}
                        onClick={() => {
                          if (
                            window.confirm(
                              `Delete the webhook to ${hook.url}? Its undelivered events are dropped.`,
                            )
                          )
                            remove.mutate(hook.id);
                        }}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pause.error && <ErrorNote error={pause.error} />}
      {remove.error && <ErrorNote error={remove.error} />}
      <NewWebhook onSaved={refresh} />
    </section>
  );
}

export function WebhookState({ hook }: { hook: Webhook }) {
  if (hook.state === 'disabled')
    return (
      <>
        <span className="pill bad">Disabled</span>
        <br />
        <span className="muted">{hook.disabled_reason}</span>
      </>
    );
  return (
    <span className={`pill ${hook.state === 'active' ? 'ok' : 'wait'}`}>
      {hook.state === 'active' ? 'Active' : 'Paused'}
    </span>
  );
}

/** A secret as the API answers it once: shown here until dismissed, never fetched again. */
export function SecretOnce({ secret, onDismiss }: { secret: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState<string>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied');
    } catch {
      setCopied('Copying was refused here: select the secret and copy it by hand.');
    }
  };
  return (
    <div className="secret" role="region" aria-label="New secret">
      <p>
        <strong>The signing secret, shown this once.</strong> Copy it now into your receiver: it cannot be
        shown again (rotate it to get a new one).
      </p>
      <p>
        <code data-testid="webhook-secret">{secret}</code>
      </p>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy the secret
        </button>
        <button type="button" className="secondary" onClick={onDismiss}>
          I have saved it
        </button>
        {copied && (
          <span role="status" className="saved">
            {copied}
          </span>
        )}
      </div>
    </div>
  );
}

function NewWebhook({ onSaved }: { onSaved: () => void }) {
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: loadDevices });
  const [form, setForm] = useState({
    url: '',
    description: '',
    events: [] as string[],
    deviceIds: [] as number[],
  });
  const [problems, setProblems] = useState<string[]>([]);
  const [secret, setSecret] = useState<string>();
  const save = useMutation({
    mutationFn: (body: unknown) =>
      post<{ webhook: Webhook & { secret: string } }>('/v1/webhooks', body).then((answer) => answer.webhook),
    onSuccess: (webhook) => {
      setSecret(webhook.secret);
      setForm({ url: '', description: '', events: [], deviceIds: [] });
      onSaved();
    },
  });
  const toggle = <T,>(list: T[], item: T, on: boolean) =>
    on ? [...list, item] : list.filter((x) => x !== item);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = webhookBody(form);
    if ('problems' in checked) {
      setProblems(checked.problems);
      return;
    }
    setProblems([]);
    save.mutate(checked.body);
  };
  return (
    <>
      <h2>New webhook</h2>
      {secret && <SecretOnce secret={secret} onDismiss={() => setSecret(undefined)} />}
      <form className="stack" onSubmit={submit} noValidate>
        <label>
          URL that receives the events
          <input
            name="url"
            type="url"
            placeholder="https://example.com/smsfleet"
            value={form.url}
            onChange={(e) => setForm({ ...form, url: e.target.value })}
          />
        </label>
        <label>
          Description (optional)
          <input
            name="description"
            value={form.description}
            maxLength={200}
            onChange={(e) => setForm({ ...form, description: e.target.value })}
          />
        </label>
        <fieldset className="tabs">
          <legend>Events</legend>
          {WEBHOOK_EVENTS.map(([type, title]) => (
            <label key={type}>
              <input
                type="checkbox"
                checked={form.events.includes(type)}
                onChange={(e) => setForm({ ...form, events: toggle(form.events, type, e.target.checked) })}
              />
              {type} <span className="muted">({title})</span>
            </label>
          ))}
        </fieldset>
        {devices.data && devices.data.length > 0 && (
          <fieldset className="tabs">
            <legend>Only these phones (none chosen: every phone)</legend>
            {devices.data.map((device) => (
              <label key={device.id}>
                <input
                  type="checkbox"
                  checked={form.deviceIds.includes(device.id)}
                  onChange={(e) =>
                    setForm({ ...form, deviceIds: toggle(form.deviceIds, device.id, e.target.checked) })
                  }
                />
                {device.title || `Device ${device.id}`} <span className="muted">#{device.id}</span>
              </label>
            ))}
          </fieldset>
        )}
        {problems.length > 0 && (
          <div className="error" role="alert">
            <ul>
              {problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </div>
        )}
        {save.error && <ErrorNote error={save.error} />}
        <div>
          <button type="submit" disabled={save.isPending}>
            Create the webhook
          </button>
        </div>
      </form>
    </>
  );
}
