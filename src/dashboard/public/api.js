// Reads the public pipe endpoints, exactly as curl does: what the page shows is what curl shows.

export class PipeError extends Error {
  constructor(pipe, status, message) {
    super(message);
    this.pipe = pipe;
    this.status = status;
  }
  /** The token was refused (unknown, or without the scope for this pipe). */
  get refused() {
    return this.status === 401 || this.status === 403;
  }
}

const query = (params) =>
  new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ).toString();

export function createApi(token) {
  async function request(pipe, params, format) {
    let res;
    try {
      res = await fetch(`/v0/pipes/${pipe}.${format}?${query(params)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
    } catch (err) {
      throw new PipeError(pipe, 0, `the service did not answer (${err.message})`);
    }
    if (!res.ok) {
      let message = res.statusText;
      try {
        message = (await res.json()).error ?? message;
      } catch {
        // not JSON: keep the status text
      }
      throw new PipeError(pipe, res.status, message);
    }
    return res;
  }
  return {
    /** The rows of a pipe's JSON answer. */
    async rows(pipe, params = {}) {
      return (await (await request(pipe, params, 'json')).json()).data;
    },
    /** The raw response (CSV export). */
    raw: (pipe, params, format) => request(pipe, params, format),
  };
}
