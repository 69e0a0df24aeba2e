/** A .pipe file that could not be loaded: where and what, so the author can fix it. */
export interface PipeLoadError {
  file: string;
  line: number;
  message: string;
}

/** A mistake in a pipe's template found while parsing it (reported at load time). */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/**
 * Raised while rendering for a request: a bad or missing parameter, or error() in the
 * template. Always a client error, so it carries the HTTP status to answer with.
 */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 408 | 422 | 429 = 400,
  ) {
    super(message);
  }
}

/** A template that is syntactically fine but wrong at render time (a pipe bug, not the caller's). */
export class TemplateRuntimeError extends Error {
  override name = 'TemplateRuntimeError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}
