/**
 * Every error the product raises on purpose is an OpenVendError: a stable machine code,
 * a message a cashier can read, and a developer detail for logs and support.
 * Neither text may ever contain key material or passwords.
 */
export class OpenVendError extends Error {
  readonly code: string;
  readonly userMessage: string;
  readonly detail: string;

  constructor(code: string, userMessage: string, detail: string = userMessage) {
    super(`${userMessage} [${code}]`);
    this.name = new.target.name;
    this.code = code;
    this.userMessage = userMessage;
    this.detail = detail;
  }

  toJSON(): { code: string; message: string; detail: string } {
    return { code: this.code, message: this.userMessage, detail: this.detail };
  }
}

export function isOpenVendError(value: unknown): value is OpenVendError {
  return value instanceof OpenVendError;
}
