// The Pipes engine: .pipe datafiles -> templated SQL with bound parameters -> Tinybird-shaped responses.
export {
  compilePipe,
  linkPipes,
  type Pipe,
  type PipeNode,
  renderPipe,
  type TableColumns,
} from './compile.js';
export { type Datafile, parseDatafile } from './datafile.js';
export { type PipeLoadError, RequestError, TemplateRuntimeError, TemplateSyntaxError } from './errors.js';
export { formatLoadErrors, loadPipes } from './load.js';
export { buildOpenApi } from './openapi.js';
export { type ParamSpec, RESERVED_PARAMS } from './params.js';
