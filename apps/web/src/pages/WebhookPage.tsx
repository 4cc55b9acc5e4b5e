import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ApiFailure, get, post } from '../api';
import { when } from '../lib/format';
import { currentCursor, firstPage, hasPrevious, nextPage, pageNumber, previousPage } from '../lib/paging';
import { DELIVERY_STATUS_TITLES, DeliveryOutcome, deliveryTone, lastAnswer } from '../lib/webhooks';
import { Empty, ErrorNote, Loading, NotFound, PageTitle } from '../ui';
import { SecretOnce, useDelete, usePause, Webhook, WEBHOOKS_KEY, WebhookState } from './WebhooksPage';

interface Delivery extends DeliveryOutcome {
  id: number;
  event_id: string;
  event_type: string;
  occurred_at: string;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
}

const PAGE = 50;

/** One subscription: its deliveries (refreshed while open), a test event, redelivery, secret rotation. */
export function WebhookPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const hook = useQuery({
    queryKey: ['webhook', id],
    queryFn: () => get<{ webhook: Webhook }>(`/v1/webhooks/${encodeURIComponent(id)}`).then((a) => a.webhook),
  });
  const [status, setStatus] = useState('');
  const [paging, setPaging] = useState(firstPage);
  const before = currentCursor(paging);
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries', id, status, before],
    queryFn: () =>
      get<{ deliveries: Delivery[]; next_before: number | null }>(
        `/v1/webhooks/${encodeURIComponent(id)}/deliveries`,
        { status, before, limit: PAGE },
      ),
    enabled: hook.isSuccess,
    // Attempts, answers and retries move while the page is open.
    refetchInterval: 2_000,
  });
  const [secret, setSecret] = useState<string>();
  const [note, setNote] = useState<string>();
  const changed = (webhook?: Webhook) => {
    if (webhook) queries.setQueryData(['webhook', id], webhook);
    void queries.invalidateQueries({ queryKey: WEBHOOKS_KEY });
    void queries.invalidateQueries({ queryKey: ['webhook-deliveries', id] });
  };
  const pause = usePause((webhook) => changed(webhook));
  const remove = useDelete(() => {
    changed();
    navigate('/webhooks');
  });
  const test = useMutation({
    mutationFn: () => post<{ event_id: string }>(`/v1/webhooks/${encodeURIComponent(id)}/test`),
    onSuccess: (answer) => {
      setNote(`Test event ${answer.event_id} queued.`);
      changed();
    },
  });
  const redeliver = useMutation({
    mutationFn: (deliveryId?: number) =>
      post<{ redelivered: number }>(
        `/v1/webhooks/${encodeURIComponent(id)}/redeliver`,
        deliveryId === undefined ? {} : { delivery_id: deliveryId },
      ),
    onSuccess: (answer) => {
      setNote(
        answer.redelivered === 1 ? '1 delivery sent again.' : `${answer.redelivered} deliveries sent again.`,
      );
      changed();
    },
  });
  const rotate = useMutation({
    mutationFn: () =>
      post<{ webhook: Webhook & { secret: string } }>(`/v1/webhooks/${encodeURIComponent(id)}/secret`).then(
        (a) => a.webhook,
      ),
    onSuccess: (webhook) => {
      setSecret(webhook.secret);
      const { secret: _shownOnce, ...rest } = webhook;
      changed(rest);
    },
  });
  if (hook.error instanceof ApiFailure && hook.error.notFound) return <NotFound what={`Webhook ${id}`} />;
  const failure = [pause, remove, test, redeliver, rotate].find((m) => m.error)?.error;
  return (
    <section>
      <PageTitle>Webhook #{id}</PageTitle>
      <p>
        <Link to="/webhooks">← All webhooks</Link>
      </p>
      {hook.isPending && <Loading what="the webhook" />}
      {hook.error && <ErrorNote error={hook.error} retry={() => void hook.refetch()} />}
      {hook.data && (
        <>
          <dl className="facts">
            <dt>URL</dt>
            <dd>{hook.data.url}</dd>
            {hook.data.description && (
              <>
                <dt>Description</dt>
                <dd>{hook.data.description}</dd>
              </>
            )}
            <dt>Events</dt>
            <dd>{hook.data.events.join(', ')}</dd>
            <dt>Phones</dt>
            <dd>{hook.data.device_ids ? hook.data.device_ids.map((d) => `#${d}`).join(', ') : 'all'}</dd>
            <dt>State</dt>
            <dd data-testid="state">
              <WebhookState hook={hook.data} />
            </dd>
            {hook.data.previous_secret_expires_at && (
              <>
                <dt>Previous secret</dt>
                <dd>still signs beside the new one until {when(hook.data.previous_secret_expires_at)}</dd>
              </>
            )}
          </dl>
          {secret && <SecretOnce secret={secret} onDismiss={() => setSecret(undefined)} />}
          <div className="actions">
            <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
              Send a test event
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => pause.mutate({ id: hook.data.id, paused: hook.data.state === 'active' })}
              disabled={pause.isPending}
            >
              {hook.data.state === 'active' ? 'Pause' : 'Resume'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => redeliver.mutate(undefined)}
              disabled={redeliver.isPending}
            >
              Redeliver all failed
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                if (
                  window.confirm('Replace the secret? The current one keeps signing beside it for 24 hours.')
                )
                  rotate.mutate();
              }}
              disabled={rotate.isPending}
            >
              Rotate the secret
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(`Delete this webhook? Its undelivered events are dropped.`))
                  remove.mutate(hook.data.id);
              }}
              disabled={remove.isPending}
            >
              Delete
            </button>
          </div>
          {note && (
            <p role="status" className="saved">
              {note}
            </p>
          )}
          {failure && <ErrorNote error={failure} />}
          <h2>Deliveries</h2>
          <label className="narrow">
            Status
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value);
                setPaging(firstPage());
              }}
            >
              <option value="">any</option>
              {Object.entries(DELIVERY_STATUS_TITLES).map(([value, title]) => (
                <option key={value} value={value}>
                  {title}
                </option>
              ))}
            </select>
          </label>
          {deliveries.isPending && <Loading what="deliveries" />}
          {deliveries.error && <ErrorNote error={deliveries.error} retry={() => void deliveries.refetch()} />}
          {deliveries.data?.deliveries.length === 0 && (
            <Empty>
              No deliveries {status ? 'with this status ' : ''}yet: send a test event to try the URL.
            </Empty>
          )}
          {deliveries.data && deliveries.data.deliveries.length > 0 && (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Deliveries, newest first, page {pageNumber(paging)}</caption>
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last answer</th>
                    <th scope="col">Last attempt</th>
                    <th scope="col">Next retry</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {deliveries.data.deliveries.map((delivery) => (
                    <tr key={delivery.id} data-testid={`delivery-${delivery.id}`}>
                      <td>
                        {delivery.event_type}
                        <br />
                        <code className="muted">{delivery.event_id}</code>
                      </td>
                      <td>
                        <span
                          className={`pill ${deliveryTone(delivery.status)}`}
                          data-testid="delivery-status"
                        >
                          {DELIVERY_STATUS_TITLES[delivery.status]}
                        </span>
                      </td>
                      <td>{delivery.attempts}</td>
                      <td data-testid="last-answer">
                        {lastAnswer(delivery)}
                        {delivery.last_error && delivery.last_status_code !== null && (
                          <span className="muted"> — {delivery.last_error}</span>
                        )}
                      </td>
                      <td>{when(delivery.last_attempt_at)}</td>
                      <td>{when(delivery.next_attempt_at)}</td>
                      <td>
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => redeliver.mutate(delivery.id)}
                          disabled={redeliver.isPending}
                        >
                          Redeliver
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="pager">
            <button
              type="button"
              disabled={!hasPrevious(paging)}
              onClick={() => setPaging(previousPage(paging))}
            >
              Newer
            </button>
            <span aria-live="polite">Page {pageNumber(paging)}</span>
            <button
              type="button"
              disabled={deliveries.data?.next_before == null}
              onClick={() => setPaging(nextPage(paging, String(deliveries.data?.next_before ?? '') || null))}
            >
              Older
            </button>
          </div>
        </>
      )}
    </section>
  );
}
