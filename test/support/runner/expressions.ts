// GitHub Actions expressions (`${{ ... }}`) as the documented workflows use them: context
// properties (github.event.*, github.token, inputs.*, matrix.*, runner.*, needs.*, steps.*),
// string, number and boolean literals, `==`, `!=`, `!`, `&&`, `||`, parentheses, and the
// status functions always(), success(), failure(), cancelled(). Anything else throws an
// ExpressionError that names it: a workflow the emulation cannot evaluate fails, never guesses.

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

export interface ExpressionContext {
  /** Top-level contexts by name: github, inputs, matrix, runner, needs, steps, env. */
  contexts: Record<string, Value>;
  /** The job's (or the step's) status so far, for the status functions. */
  status: 'success' | 'failure' | 'cancelled';
}

type Token = { kind: 'str' | 'num' | 'ident' | 'op' | 'punct'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new ExpressionError(`unterminated string in \${{ ${source} }}`);
        if (source[i] === "'" && source[i + 1] === "'") {
          text += "'";
          i += 2;
        } else if (source[i] === "'") {
          i++;
          break;
        } else text += source[i++];
      }
      tokens.push({ kind: 'str', text });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(source.slice(i))!;
      tokens.push({ kind: 'num', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][\w-]*/.exec(source.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else if (['==', '!=', '&&', '||'].includes(source.slice(i, i + 2))) {
      tokens.push({ kind: 'op', text: source.slice(i, i + 2) });
      i += 2;
    } else if ('!().*[],'.includes(c)) {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else {
      throw new ExpressionError(`the emulation cannot evaluate "${c}" in \${{ ${source} }}`);
    }
  }
  return tokens;
}

const STATUS_FUNCTIONS = ['always', 'success', 'failure', 'cancelled'];

/** Evaluates one expression (the text between `${{` and `}}`). */
export function evaluate(source: string, ctx: ExpressionContext): Value {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (text?: string): Token => {
    const t = tokens[pos];
    if (!t || (text !== undefined && t.text !== text)) throw new ExpressionError(`expected ${text ?? 'more'} in \${{ ${source} }}`);
    pos++;
    return t;
  };

  const or = (): Value => {
    let left = and();
    while (peek()?.text === '||') {
      take();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): Value => {
    let left = equality();
    while (peek()?.text === '&&') {
      take();
      const right = equality();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const equality = (): Value => {
    let left = unary();
    while (peek()?.text === '==' || peek()?.text === '!=') {
      const op = take().text;
      const right = unary();
      left = op === '==' ? looseEquals(left, right) : !looseEquals(left, right);
    }
    return left;
  };
  const unary = (): Value => {
    if (peek()?.text === '!') {
      take();
      return !truthy(unary());
    }
    return primary();
  };
  const primary = (): Value => {
    const t = take();
    if (t.kind === 'str') return t.text;
    if (t.kind === 'num') return Number(t.text);
    if (t.text === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t.kind !== 'ident') throw new ExpressionError(`unexpected "${t.text}" in \${{ ${source} }}`);
    if (t.text === 'true' || t.text === 'false') return t.text === 'true';
    if (t.text === 'null') return null;
    if (peek()?.text === '(') {
      if (!STATUS_FUNCTIONS.includes(t.text)) throw new ExpressionError(`the emulation cannot evaluate the function ${t.text}() in \${{ ${source} }}`);
      take('(');
      take(')');
      if (t.text === 'always') return true;
      return ctx.status === t.text;
    }
    if (!(t.text in ctx.contexts)) throw new ExpressionError(`the emulation has no context "${t.text}" (in \${{ ${source} }})`);
    let value: Value = ctx.contexts[t.text];
    let path = t.text;
    while (peek()?.text === '.' || peek()?.text === '[') {
      let name: string;
      if (take().text === '.') name = take().text;
      else {
        const k = take();
        if (k.kind !== 'str') throw new ExpressionError(`the emulation cannot evaluate the index [${k.text}] in \${{ ${source} }}`);
        name = k.text;
        take(']');
      }
      path += `.${name}`;
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value[name] ?? null) : null;
    }
    // A property that is not there is null on GitHub too; a property of a context the emulation
    // fills only partly is a gap of the emulation and must not pass as null.
    if (value === null && !NULLABLE_PATHS.some((p) => p.test(path))) {
      throw new ExpressionError(`the emulation has no value for ${path} (in \${{ ${source} }})`);
    }
    return value;
  };

  const value = or();
  if (pos !== tokens.length) throw new ExpressionError(`the emulation cannot evaluate "${tokens[pos].text}" in \${{ ${source} }}`);
  return value;
}

/** Properties that may be missing on GitHub as well (a dispatch input not given, an output not set). */
const NULLABLE_PATHS = [/^inputs\./, /^steps\.[\w-]+\.outputs\./, /^needs\.[\w-]+\.outputs\./, /^github\.event\./];

export function truthy(v: Value): boolean {
  if (v === null || v === false || v === 0 || v === '') return false;
  return !(typeof v === 'number' && Number.isNaN(v));
}

function looseEquals(a: Value, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b) return a === b;
  const num = (v: Value) => (v === null ? 0 : typeof v === 'boolean' ? Number(v) : typeof v === 'string' ? (v.trim() === '' ? 0 : Number(v)) : Number.NaN);
  return num(a) === num(b);
}

export function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Replaces every `${{ ... }}` in a string; a string that is one whole expression keeps its value's type. */
export function interpolate(text: string, ctx: ExpressionContext): Value {
  const whole = /^\$\{\{([\s\S]*?)\}\}$/.exec(text.trim());
  if (whole && !whole[1].includes('}}')) return evaluate(whole[1], ctx);
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => toText(evaluate(e, ctx)));
}

/** An `if:` condition: an expression with or without `${{ }}`; success() is implied when no status function is used. */
export function condition(text: string | boolean | undefined, ctx: ExpressionContext): boolean {
  if (text === undefined) return ctx.status === 'success';
  if (typeof text === 'boolean') return text && ctx.status === 'success';
  const source = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(text)?.[1] ?? text;
  const usesStatus = STATUS_FUNCTIONS.some((f) => new RegExp(`\\b${f}\\s*\\(`).test(source));
  const value = truthy(evaluate(source, ctx));
  return usesStatus ? value : value && ctx.status === 'success';
}
