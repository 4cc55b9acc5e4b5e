import { ChangeEvent, FormEvent, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Papa from 'papaparse';
import { ApiFailure, get, post } from '../api';
import { Empty, ErrorNote, Loading, PageTitle } from '../ui';
import { DEVICES_KEY, loadDevices } from './DevicesPage';

interface Tag {
  id: number;
  title: string;
  contacts: number;
}
interface Contact {
  id: number;
  sendto: string;
  name: string;
  tag_ids: number[];
}
interface Newsletter {
  id: number;
  title: string;
  device_id: number;
  time_to_send: string;
  expanded: boolean;
  message_count: number | null;
  progress: { waiting: number; in_progress: number; delivered: number; failed: number };
}

/** Tags, contacts (savecontact, one per number) and newsletters (savepaket) with their progress. */
export function ContactsPage() {
  const queries = useQueryClient();
  const tags = useQuery({
    queryKey: ['tags'],
    queryFn: () => get<{ tags: Tag[] }>('/v1/tags').then((a) => a.tags),
  });
  const [tagFilter, setTagFilter] = useState('');
  const [after, setAfter] = useState<number[]>([0]);
  const contacts = useQuery({
    queryKey: ['contacts', tagFilter, after[after.length - 1]],
    queryFn: () =>
      get<{ contacts: Contact[]; next_after: number | null }>('/v1/contacts', {
        tag_id: tagFilter,
        after: after[after.length - 1],
        limit: 50,
      }),
  });
  const newsletters = useQuery({
    queryKey: ['newsletters'],
    queryFn: () => get<{ newsletters: Newsletter[] }>('/v1/newsletters').then((a) => a.newsletters),
    refetchInterval: 5_000,
  });
  const refresh = () =>
    void queries.invalidateQueries({
      predicate: (q) => ['tags', 'contacts'].includes(String(q.queryKey[0])),
    });
  const tagTitle = (id: number) => tags.data?.find((tag) => tag.id === id)?.title ?? `#${id}`;
  return (
    <section>
      <PageTitle>Contacts, tags and newsletters</PageTitle>
      <h2>Tags</h2>
      {tags.isPending && <Loading what="tags" />}
      {tags.error && <ErrorNote error={tags.error} />}
      {tags.data?.length === 0 && <Empty>No tags yet.</Empty>}
      {tags.data && tags.data.length > 0 && (
        <ul className="chips">
          {tags.data.map((tag) => (
            <li key={tag.id}>
              {tag.title} <span className="muted">({tag.contacts})</span>
            </li>
          ))}
        </ul>
      )}
      <NewTag onSaved={refresh} />
      <h2>Contacts</h2>
      <label>
        Tag
        <select
          value={tagFilter}
          onChange={(e) => {
            setTagFilter(e.target.value);
            setAfter([0]);
          }}
        >
          <option value="">All</option>
          {tags.data?.map((tag) => (
            <option key={tag.id} value={tag.id}>
              {tag.title}
            </option>
          ))}
        </select>
      </label>
      {contacts.isPending && <Loading what="contacts" />}
      {contacts.error && <ErrorNote error={contacts.error} />}
      {contacts.data?.contacts.length === 0 && <Empty>No contacts.</Empty>}
      {contacts.data && contacts.data.contacts.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Name</th>
                <th scope="col">Tags</th>
              </tr>
            </thead>
            <tbody>
              {contacts.data.contacts.map((contact) => (
                <tr key={contact.id}>
                  <td>{contact.sendto}</td>
                  <td>{contact.name}</td>
                  <td>{contact.tag_ids.map(tagTitle).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages of contacts">
        <button type="button" disabled={after.length < 2} onClick={() => setAfter(after.slice(0, -1))}>
          Previous
        </button>
        <button
          type="button"
          disabled={!contacts.data?.next_after}
          onClick={() => setAfter([...after, contacts.data?.next_after ?? 0])}
        >
          Next
        </button>
      </nav>
      <ImportContacts tags={tags.data ?? []} onDone={refresh} />
      <h2>Newsletters</h2>
      {newsletters.isPending && <Loading what="newsletters" />}
      {newsletters.error && <ErrorNote error={newsletters.error} />}
      {newsletters.data?.length === 0 && <Empty>No newsletters yet.</Empty>}
      {newsletters.data && newsletters.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Newsletter</th>
                <th scope="col">Device</th>
                <th scope="col">Due</th>
                <th scope="col">Progress</th>
              </tr>
            </thead>
            <tbody>
              {newsletters.data.map((n) => {
                const total =
                  n.progress.waiting + n.progress.in_progress + n.progress.delivered + n.progress.failed;
                return (
                  <tr key={n.id}>
                    <td>{n.title}</td>
                    <td>#{n.device_id}</td>
                    <td>{new Date(n.time_to_send).toLocaleString()}</td>
                    <td>
                      {n.expanded ? (
                        <>
                          <progress
                            max={Math.max(total, 1)}
                            value={n.progress.delivered + n.progress.failed}
                          />{' '}
                          {n.progress.delivered} delivered, {n.progress.failed} failed,{' '}
                          {n.progress.waiting + n.progress.in_progress} under way
                        </>
                      ) : (
                        'not yet due'
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <NewNewsletter
        tags={tags.data ?? []}
        onSaved={() => void queries.invalidateQueries({ queryKey: ['newsletters'] })}
      />
    </section>
  );
}

function NewTag({ onSaved }: { onSaved: () => void }) {
  const [title, setTitle] = useState('');
  const save = useMutation({
    mutationFn: () => post('/getdata/savetag', { title }),
    onSuccess: () => {
      setTitle('');
      onSaved();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="inline" onSubmit={submit}>
      <label>
        New tag
        <input required value={title} onChange={(e) => setTitle(e.target.value)} />
      </label>
      <button type="submit" disabled={save.isPending}>
        Create tag
      </button>
      {save.error && <ErrorNote error={save.error} />}
    </form>
  );
}

/** Rows per request: the import route takes up to this many, all or none. */
const IMPORT_CHUNK = 1_000;

interface ImportProgress {
  done: number;
  total: number;
  created: number;
  /** The first refused chunk's rows, by line of the file; nothing after it was sent. */
  refused: string[];
}

/**
 * A CSV of `phone,name` rows (a header line is skipped) saved with one tag through /v1/contacts/import,
 * a chunk at a time. A refused chunk stops the import with its bad lines named; importing the fixed file
 * again is harmless (a known number keeps one contact and gains the tag).
 */
function ImportContacts({ tags, onDone }: { tags: Tag[]; onDone: () => void }) {
  const [tagId, setTagId] = useState('');
  const [progress, setProgress] = useState<ImportProgress>();
  const choose = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file || !tagId) return;
    Papa.parse<string[]>(file, {
      skipEmptyLines: 'greedy',
      complete: async (result) => {
        const rows = result.data
          .map((row, index) => ({ line: index + 1, phone: row[0] ?? '', name: row[1] ?? '' }))
          .filter((row) => /\d/.test(row.phone));
        const state: ImportProgress = { done: 0, total: rows.length, created: 0, refused: [] };
        setProgress({ ...state });
        for (let start = 0; start < rows.length; start += IMPORT_CHUNK) {
          const chunk = rows.slice(start, start + IMPORT_CHUNK);
          try {
            const saved = await post<{ created: number }>('/v1/contacts/import', {
              tag_id: Number(tagId),
              contacts: chunk.map(({ phone, name }) => ({ phone, name })),
            });
            state.created += saved.created;
            state.done += chunk.length;
            setProgress({ ...state });
          } catch (error) {
            state.refused =
              error instanceof ApiFailure && error.errors?.length
                ? error.errors.map((e) => `line ${chunk[e.index]?.line ?? '?'} (${e.field}): ${e.message}`)
                : [error instanceof Error ? error.message : String(error)];
            setProgress({ ...state });
            break;
          }
        }
        onDone();
      },
    });
  };
  return (
    <div className="stack">
      <h3>Import contacts from CSV</h3>
      <label>
        Tag for the imported contacts
        <select value={tagId} onChange={(e) => setTagId(e.target.value)}>
          <option value="">Choose a tag first</option>
          {tags.map((tag) => (
            <option key={tag.id} value={tag.id}>
              {tag.title}
            </option>
          ))}
        </select>
      </label>
      <label>
        CSV file (number, name)
        <input type="file" accept=".csv,text/csv" disabled={!tagId} onChange={choose} />
      </label>
      {progress && (
        <p role="status" data-testid="import-progress">
          {progress.done} of {progress.total} saved ({progress.created} new)
          {progress.refused.length > 0 &&
            `; stopped at a chunk with ${progress.refused.length} bad line(s), nothing of it saved: ` +
              progress.refused.slice(0, 5).join('; ')}
        </p>
      )}
    </div>
  );
}

function NewNewsletter({ tags, onSaved }: { tags: Tag[]; onSaved: () => void }) {
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: loadDevices });
  const [form, setForm] = useState({ title: '', body: '', tag: '', device: '' });
  const save = useMutation({
    mutationFn: () =>
      post('/getdata/savepaket', {
        title: form.title,
        body: form.body,
        tags: form.tag,
        device_id: Number(form.device || devices.data?.[0]?.id),
      }),
    onSuccess: () => {
      setForm({ title: '', body: '', tag: '', device: '' });
      onSaved();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="stack" onSubmit={submit}>
      <h3>New newsletter (sent now to every contact carrying the tag)</h3>
      <label>
        Title
        <input required value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} />
      </label>
      <label>
        Text
        <textarea required value={form.body} onChange={(e) => setForm({ ...form, body: e.target.value })} />
      </label>
      <label>
        Tag
        <select required value={form.tag} onChange={(e) => setForm({ ...form, tag: e.target.value })}>
          <option value="">Choose</option>
          {tags.map((tag) => (
            <option key={tag.id} value={tag.id}>
              {tag.title}
            </option>
          ))}
        </select>
      </label>
      <label>
        Phone
        <select value={form.device} onChange={(e) => setForm({ ...form, device: e.target.value })}>
          {devices.data?.map((d) => (
            <option key={d.id} value={d.id}>
              {d.title || `Device ${d.id}`} (#{d.id})
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={save.isPending}>
        Create newsletter
      </button>
      {save.error && <ErrorNote error={save.error} />}
    </form>
  );
}
