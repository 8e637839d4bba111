// The text of a PDF, page by page, as PDF.js (Firefox's reader) reads it, printed as JSON: run as a
// child process, since PDF.js is an ES module that Jest's CommonJS runtime cannot import. Its
// character maps are given, as a reader's would be, for fonts that are not embedded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
const root = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const warnings = [];
const document = await pdfjs.getDocument({
  data: new Uint8Array(readFileSync(process.argv[2])),
  cMapUrl: `${root}/cmaps/`,
  cMapPacked: true,
  standardFontDataUrl: `${root}/standard_fonts/`,
  verbosity: pdfjs.VerbosityLevel.WARNINGS,
}).promise;
const pages = [];
for (let number = 1; number <= document.numPages; number += 1) {
  const content = await (await document.getPage(number)).getTextContent();
  pages.push(content.items.map((item) => item.str).join(''));
}
const info = await document.getMetadata();
console.log(JSON.stringify({ pages, title: info.info.Title ?? null, warnings }));
