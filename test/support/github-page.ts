// A PR comment rendered roughly as GitHub shows it, in headless Chromium: GFM by marked,
// GitHub's markdown stylesheet (github-markdown-css), ```mermaid blocks drawn by the mermaid
// package, inside a comment box of GitHub's width. Everything is loaded from local files; any
// other request is refused and counted.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { marked } from 'marked';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** A comment box on a PR's conversation tab, border included. */
export const COMMENT_WIDTH = 830;

const require = createRequire(import.meta.url);
const asset = (spec: string) => pathToFileURL(require.resolve(spec)).href;
const MERMAID = pathToFileURL(join(dirname(require.resolve('mermaid')), 'mermaid.min.js')).href;

export type Scheme = 'light' | 'dark';

const PAGE_COLOURS: Record<Scheme, { canvas: string; border: string }> = {
  light: { canvas: '#ffffff', border: '#d1d9e0' },
  dark: { canvas: '#0d1117', border: '#3d444d' },
};

/** The comment's HTML: marked's GFM, ```mermaid blocks kept for Mermaid to draw. */
export function commentHtml(markdown: string, scheme: Scheme): string {
  const body = marked.parse(markdown, { gfm: true, async: false });
  const withCharts = body.replace(/<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g, (_, code: string) => `<pre class="mermaid">${code}</pre>`);
  const c = PAGE_COLOURS[scheme];
  return `<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="${asset(`github-markdown-css/github-markdown-${scheme}.css`)}">
<style>
  body { margin: 0; padding: 16px; background: ${c.canvas}; }
  #comment { box-sizing: border-box; width: ${COMMENT_WIDTH}px; border: 1px solid ${c.border}; border-radius: 6px; background: ${c.canvas}; }
  #comment > .markdown-body { padding: 16px; }
</style></head>
<body><div id="comment"><article class="markdown-body">${withCharts}</article></div>
<script src="${MERMAID}"></script></body></html>`;
}

export interface RenderedComment {
  page: Page;
  /** Requests for anything but a local file. */
  refused: string[];
  close: () => Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (scripts/test.sh installs it), or set CHROMIUM_PATH`);
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--allow-file-access-from-files', '--font-render-hinting=none'] });
}

/** Loads the comment with every chart drawn and its <details> open. */
export async function renderComment(browser: Browser, markdown: string, scheme: Scheme): Promise<RenderedComment> {
  const dir = mkdtempSync(join(tmpdir(), 'alloc-balance-page-'));
  const file = join(dir, 'comment.html');
  writeFileSync(file, commentHtml(markdown, scheme));
  const page = await browser.newPage();
  const refused: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url().startsWith('file:') || r.url().startsWith('data:')) void r.continue();
    else {
      refused.push(r.url());
      void r.abort();
    }
  });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
  await page.setViewport({ width: COMMENT_WIDTH + 32, height: 800, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.evaluate(
    async (theme) => {
      // Charts are opened as a reader would; the other details stay folded as GitHub shows them.
      for (const d of document.querySelectorAll('details')) if (d.querySelector('pre.mermaid')) d.open = true;
      const m = (window as unknown as { mermaid: { initialize: (c: object) => void; render: (id: string, text: string) => Promise<{ svg: string }> } }).mermaid;
      m.initialize({ startOnLoad: false, theme, securityLevel: 'strict' });
      let n = 0;
      for (const pre of document.querySelectorAll('pre.mermaid')) {
        const chart = document.createElement('div');
        chart.className = 'mermaid-chart';
        // A chart Mermaid cannot parse throws here: the test sees it.
        chart.innerHTML = (await m.render(`chart-${n++}`, pre.textContent ?? '')).svg;
        pre.replaceWith(chart);
      }
    },
    scheme === 'dark' ? 'dark' : 'default',
  );
  return {
    page,
    refused,
    close: async () => {
      await page.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
