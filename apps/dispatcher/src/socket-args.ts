/** An ack callback as socket.io hands it to a listener, answering `Answer`. */
export type AckCallback<Answer = unknown> = (answer: Answer) => void;

/**
 * A listener's arguments as socket.io passes them: the payload, then the ack if the phone asked for one.
 * Several payloads come as an array and none as undefined, as Nest's socket.io adapter maps them, so an
 * event reads the same whether it is bound by hand or with `@SubscribeMessage`.
 */
export function splitAck<Answer = unknown>(args: unknown[]): { payload: unknown; ack?: AckCallback<Answer> } {
  const last = args[args.length - 1];
  const ack = typeof last === 'function' ? (last as AckCallback<Answer>) : undefined;
  const payloads = ack ? args.slice(0, -1) : args;
  return { payload: payloads.length <= 1 ? payloads[0] : payloads, ack };
}
