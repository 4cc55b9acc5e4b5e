import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { ApiFailure, get, MessageDetail } from '../api';
import { SIM_LABELS, statusTone, when } from '../lib/format';
import { ErrorNote, Loading, NotFound, PageTitle } from '../ui';

export function MessageDetailPage() {
  const { id = '' } = useParams();
  const message = useQuery({
    queryKey: ['message', id],
    queryFn: () => get<{ sms: MessageDetail }>(`/v1/messages/${encodeURIComponent(id)}`).then((a) => a.sms),
    // Until it is final, it may still move.
    refetchInterval: (query) => (query.state.data?.final ? false : 2_000),
  });
  if (message.error instanceof ApiFailure && message.error.notFound)
    return <NotFound what={`Message ${id}`} />;
  return (
    <section>
      <PageTitle>Message #{id}</PageTitle>
      <p>
        <Link to="/messages">← All messages</Link>
      </p>
      {message.isPending && <Loading what="the message" />}
      {message.error && <ErrorNote error={message.error} retry={() => void message.refetch()} />}
      {message.data && (
        <>
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <span className={`pill ${statusTone(message.data.status)}`} data-testid="status">
                {message.data.status_title}
              </span>
              {message.data.error && <span className="muted"> — {message.data.error}</span>}
            </dd>
            <dt>To</dt>
            <dd>{message.data.sendto}</dd>
            <dt>Text</dt>
            <dd className="body-cell">{message.data.body}</dd>
            <dt>Device</dt>
            <dd>
              #{message.data.device_id}, {SIM_LABELS[message.data.sim] ?? `slot ${message.data.sim}`}
              {message.data.urgent ? ', urgent' : ''}
            </dd>
            <dt>Created</dt>
            <dd>{when(message.data.created_at)}</dd>
            <dt>Due</dt>
            <dd>{when(message.data.time_to_send)}</dd>
            {message.data.customer_id !== null && (
              <>
                <dt>Customer id</dt>
                <dd>{message.data.customer_id}</dd>
              </>
            )}
          </dl>
          <h2>History</h2>
          {message.data.history.length === 0 ? (
            <p className="empty">No phone has reported on it yet.</p>
          ) : (
            <ol className="history">
              {message.data.history.map((event) => (
                <li key={`${event.status}-${event.at}`}>
                  <span className={`pill ${statusTone(event.status)}`}>{event.status_title}</span>{' '}
                  {when(event.at)}
                  {event.error && <span className="muted"> — {event.error}</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
