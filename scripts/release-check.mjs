// What a release needs before its tag is published: action.yml as the GitHub Marketplace accepts
// it, a tag that matches package.json and has its CHANGELOG entry, and a dist/ built from the
// source. The release workflow runs it on the pushed tag; locally:
//
//   node scripts/release-check.mjs                 # Marketplace rules and dist/
//   node scripts/release-check.mjs --tag v1.2.3    # and the tag against package.json and CHANGELOG.md
//
// Options: --action FILE (another action.yml), --no-dist (skip the dist/ rebuild), --notes FILE
// (with --tag: write the tag's CHANGELOG entry there, the release notes). Exit 0 when all hold, 1
// with one line per problem otherwise. Under GitHub Actions it writes the major tag (v1) to
// GITHUB_OUTPUT as `major`.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..');

/** The Marketplace refuses a longer description. */
export const MAX_DESCRIPTION = 125;
/** The colours branding.color may take (GitHub's metadata syntax for actions). */
export const BRANDING_COLOURS = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark'];

/** What keeps action.yml off the Marketplace, one text each; [] when it can be published. */
export function marketplaceProblems(actionYaml) {
  let action;
  try {
    action = parse(actionYaml);
  } catch (e) {
    return [`action.yml is not valid YAML: ${e.message}`];
  }
  if (!action || typeof action !== 'object') return ['action.yml holds no mapping'];
  const problems = [];
  const text = (key) => (typeof action[key] === 'string' ? action[key].trim() : '');
  if (!text('name')) problems.push('name: missing (the Marketplace lists the action under it)');
  const description = text('description');
  if (!description) problems.push('description: missing');
  else if (description.length >= MAX_DESCRIPTION) {
    problems.push(`description: ${description.length} characters; the Marketplace takes fewer than ${MAX_DESCRIPTION}`);
  }
  if (!text('author')) problems.push('author: missing');
  const branding = action.branding;
  if (!branding || typeof branding !== 'object') problems.push('branding: missing (icon and color)');
  else {
    if (typeof branding.icon !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(branding.icon)) {
      problems.push(`branding.icon: ${JSON.stringify(branding.icon ?? null)} is not a Feather icon name such as "activity"`);
    }
    if (!BRANDING_COLOURS.includes(branding.color)) {
      problems.push(`branding.color: ${JSON.stringify(branding.color ?? null)}; one of ${BRANDING_COLOURS.join(', ')}`);
    }
  }
  if (!action.runs || typeof action.runs !== 'object' || !action.runs.using) problems.push('runs.using: missing');
  return problems;
}

/** v1.2.3 -> { version: '1.2.3', major: 'v1' }; null for anything else (v1, 1.2.3, v1.2.3-rc.1). */
export function parseReleaseTag(tag) {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  return m ? { version: `${m[1]}.${m[2]}.${m[3]}`, major: `v${m[1]}` } : null;
}

function headingOf(version) {
  return new RegExp(`^##\\s+\\[?${version.replace(/\./g, '\\.')}\\]?(\\s|$)`, 'm');
}

/** The text under a version's "## 1.2.3" heading, up to the next "## "; null when there is none. */
export function changelogSection(changelog, version) {
  const m = headingOf(version).exec(changelog);
  if (!m) return null;
  const rest = changelog.slice(m.index).split('\n').slice(1);
  const end = rest.findIndex((line) => line.startsWith('## '));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n').trim();
}

/** The tag against package.json's version and CHANGELOG.md's headings ("## 1.2.3 - date"). */
export function tagProblems(tag, packageVersion, changelog) {
  const parsed = parseReleaseTag(tag);
  if (!parsed) return [`tag ${tag}: a release tag is vMAJOR.MINOR.PATCH, e.g. v1.0.0`];
  const problems = [];
  if (parsed.version !== packageVersion) {
    problems.push(`tag ${tag}: package.json says ${packageVersion}; set "version": "${parsed.version}" and tag that commit`);
  }
  if (!headingOf(parsed.version).test(changelog)) problems.push(`tag ${tag}: CHANGELOG.md has no "## ${parsed.version}" entry`);
  return problems;
}

function distProblems() {
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--check'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (e) {
    return [`dist/: ${String(e.stderr || e.message).trim()}`];
  }
}

function main() {
  const { values } = parseArgs({
    options: { tag: { type: 'string' }, action: { type: 'string' }, 'no-dist': { type: 'boolean' }, notes: { type: 'string' } },
    strict: true,
  });
  const problems = marketplaceProblems(readFileSync(values.action ?? join(ROOT, 'action.yml'), 'utf8'));
  if (values.notes !== undefined && values.tag === undefined) throw new Error('--notes needs --tag (the version whose entry it writes)');
  const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
  if (values.tag !== undefined) {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    problems.push(...tagProblems(values.tag, pkg.version, changelog));
  }
  if (!values['no-dist']) problems.push(...distProblems());
  if (problems.length > 0) {
    for (const p of problems) console.error(`release-check: ${p}`);
    return 1;
  }
  const major = values.tag ? parseReleaseTag(values.tag).major : null;
  if (values.notes !== undefined) writeFileSync(values.notes, `${changelogSection(changelog, parseReleaseTag(values.tag).version)}\n`);
  if (major && process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `major=${major}\n`);
  console.log(`release-check: ready${values.tag ? ` to publish ${values.tag} (major tag ${major})` : ''}`);
  return 0;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  try {
    process.exitCode = main();
  } catch (e) {
    console.error(`release-check: ${e.message}`);
    process.exitCode = 64;
  }
}
