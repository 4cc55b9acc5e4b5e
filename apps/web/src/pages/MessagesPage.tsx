import { FormEvent, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router-dom';
import { get, Message } from '../api';
import { currentCursor, firstPage, hasPrevious, nextPage, pageNumber, previousPage } from '../lib/paging';
import { SIM_LABELS, STATUS_CHOICES, statusTone, when } from '../lib/format';
import { Empty, ErrorNote, Loading, PageTitle } from '../ui';
import { DEVICES_KEY, loadDevices } from './DevicesPage';

const FILTERS = ['device_id', 'status', 'begindate', 'enddate', 'sim', 'customerid', 'phone'] as const;
const PAGE_SIZE = 50;

/** getallsms's filters in the address (shareable, kept on reload), keyset pages, statuses refreshed live. */
export function MessagesPage() {
  const [search, setSearch] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((name) => [name, search.get(name) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const [draft, setDraft] = useState(filters);
  const [paging, setPaging] = useState(firstPage);
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: loadDevices });
  const cursor = currentCursor(paging);
  const page = useQuery({
    queryKey: ['messages', filters, cursor],
    queryFn: () =>
      get<{ messages: Message[]; next_cursor: string | null }>('/v1/messages', {
        ...filters,
        limit: PAGE_SIZE,
        cursor,
      }),
    placeholderData: keepPreviousData,
    // Live while open: statuses move as phones report.
    refetchInterval: 2_000,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setPaging(firstPage());
    setSearch(Object.fromEntries(Object.entries(draft).filter(([, value]) => value !== '')));
  };
  const clear = () => {
    setDraft(Object.fromEntries(FILTERS.map((name) => [name, ''])) as typeof filters);
    setPaging(firstPage());
    setSearch({});
  };
  const field = (name: (typeof FILTERS)[number]) => ({
    name,
    value: draft[name],
    onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [name]: event.target.value }),
  });
  return (
    <section>
      <PageTitle>Messages</PageTitle>
      <form className="filters" onSubmit={apply} aria-label="Filter messages">
        <label>
          Device
          <select {...field('device_id')}>
            <option value="">All</option>
            {devices.data?.map((device) => (
              <option key={device.id} value={device.id}>
                {device.title || `Device ${device.id}`} (#{device.id})
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select {...field('status')}>
            <option value="">All</option>
            {STATUS_CHOICES.map(([code, title]) => (
              <option key={code} value={code}>
                {title} ({code})
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" {...field('begindate')} />
        </label>
        <label>
          Until
          <input type="date" {...field('enddate')} />
        </label>
        <label>
          SIM
          <select {...field('sim')}>
            <option value="">All</option>
            {Object.entries(SIM_LABELS).map(([slot, label]) => (
              <option key={slot} value={slot}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Customer id
          <input inputMode="numeric" {...field('customerid')} />
        </label>
        <label>
          Phone
          <input type="tel" {...field('phone')} />
        </label>
        <div className="actions">
          <button type="submit">Filter</button>
          <button type="button" className="secondary" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      {page.isPending && <Loading what="messages" />}
      {page.error && <ErrorNote error={page.error} retry={() => void page.refetch()} />}
      {page.data && page.data.messages.length === 0 && <Empty>No messages match.</Empty>}
      {page.data && page.data.messages.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Messages, newest first, page {pageNumber(paging)}</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">To</th>
                <th scope="col">Text</th>
                <th scope="col">Status</th>
                <th scope="col">Device</th>
                <th scope="col">SIM</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.messages.map((message) => (
                <tr key={message.id} data-testid={`message-${message.id}`}>
                  <td>
                    <Link to={`/messages/${message.id}`}>#{message.id}</Link>
                  </td>
                  <td>{message.sendto}</td>
                  <td className="body-cell">{message.body}</td>
                  <td>
                    <span className={`pill ${statusTone(message.status)}`} data-testid="status">
                      {message.status_title}
                    </span>
                    {message.urgent && <span className="pill busy">urgent</span>}
                  </td>
                  <td>{message.device_id}</td>
                  <td>{SIM_LABELS[message.sim] ?? message.sim}</td>
                  <td>{when(message.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages of messages">
        <button type="button" disabled={!hasPrevious(paging)} onClick={() => setPaging(previousPage(paging))}>
          Newer
        </button>
        <span aria-live="polite">Page {pageNumber(paging)}</span>
        <button
          type="button"
          disabled={!page.data?.next_cursor}
          onClick={() => setPaging(nextPage(paging, page.data?.next_cursor ?? null))}
        >
          Older
        </button>
      </nav>
    </section>
  );
}
