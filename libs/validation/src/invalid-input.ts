/**
 * Input from outside (an HTTP request, a phone's event or report, a webhook) that we refuse. Each surface
 * renders it in its own format: the API's `{error, message, code}`, a socket ack's `{ok:false, error}`, a
 * 400 on the SMSGate app's routes. The message names the field and never echoes the value.
 */
export class InvalidInput extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidInput';
  }
}
