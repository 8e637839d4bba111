/**
 * The voucher as a PDF (issue #21), written directly: one A4 page (more if it runs long) of the
 * voucher's rows in Adobe's standard Simplified Chinese font, STSong-Light (CID-keyed, Adobe-GB1,
 * text as UCS-2 through the predefined UniGB-UCS2-H CMap). A standard CJK font is not embedded —
 * every PDF reader with Chinese support carries it or a substitute — so making a voucher costs
 * well under a millisecond instead of seconds of font subsetting on the API's only thread (the
 * first attempt, with an embedded Noto Sans SC, took ~4.5 s of CPU each). A ToUnicode map makes
 * its text searchable and copyable. Only ASCII leaves this module: text is written as hex.
 */
import type { Voucher } from './voucher';

const PAGE = { width: 595, height: 842, margin: 56 };
const LABEL_X = PAGE.margin;
const VALUE_X = 200;
const VALUE_WIDTH = PAGE.width - PAGE.margin - VALUE_X;
const SIZE = { title: 18, heading: 13, text: 10.5, strong: 13 };

/** The voucher as PDF bytes; instants in the business time zone (minutes east of UTC). */
export function voucherPdf(voucher: Voucher, utcOffsetMinutes: number, producedAt = new Date()): Buffer {
  const pages = layOut(voucher, utcOffsetMinutes);
  const objects: string[] = [];
  // push answers the new length: the object's number (they start at 1).
  const add = (body: string) => objects.push(body);
  const catalog = add('');
  const pagesObject = add('');
  const font = add('');
  const descendant = add('');
  const descriptor = add('');
  const toUnicode = add(stream(toUnicodeCMap()));
  const info = add(`<< /Title <${utf16Hex(voucher.title)}> /Producer (refundflow) /CreationDate (D:${pdfDate(producedAt)}) >>`);
  const pageObjects = pages.map((content) => {
    const contents = add(stream(content));
    return add(`<< /Type /Page /Parent ${pagesObject} 0 R /MediaBox [0 0 ${PAGE.width} ${PAGE.height}] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${contents} 0 R >>`);
  });
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObject} 0 R >>`;
  objects[pagesObject - 1] = `<< /Type /Pages /Kids [${pageObjects.map((n) => `${n} 0 R`).join(' ')}] /Count ${pageObjects.length} >>`;
  objects[font - 1] = `<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [${descendant} 0 R] /ToUnicode ${toUnicode} 0 R >>`;
  // Adobe-GB1 CIDs 1–95 are the proportional Latin glyphs UniGB-UCS2-H maps ASCII to: half an em wide.
  objects[descendant - 1] = `<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor ${descriptor} 0 R /DW 1000 /W [1 95 500] >>`;
  objects[descriptor - 1] = '<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>';

  let pdf = '%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** Each page's content stream: the rows, wrapped to the value column, a new page when one is full. */
function layOut(voucher: Voucher, utcOffsetMinutes: number): string[] {
  const pages: string[][] = [[]];
  let y = PAGE.height - PAGE.margin;
  const room = (height: number) => {
    if (y - height >= PAGE.margin) return;
    pages.push([]);
    y = PAGE.height - PAGE.margin;
  };
  const write = (x: number, size: number, text: string, gray = 0) => pages[pages.length - 1]!.push(`BT /F1 ${size} Tf ${gray} g 1 0 0 1 ${x} ${y.toFixed(1)} Tm <${ucs2Hex(text)}> Tj ET`);

  y -= SIZE.title;
  write(LABEL_X, SIZE.title, voucher.title);
  y -= 10;
  for (const section of voucher.sections) {
    if (section.heading) {
      room(SIZE.heading * 2.4);
      y -= SIZE.heading * 1.8;
      write(LABEL_X, SIZE.heading, section.heading);
      y -= 4;
    }
    for (const row of section.rows) {
      const size = row.strong ? SIZE.strong : SIZE.text;
      const values = row.at !== undefined ? [row.at ? localTime(row.at, utcOffsetMinutes) : '—'] : row.lines;
      const lines = values.flatMap((value, i) => wrap(value, i === 0 ? size : SIZE.text).map((line) => ({ line, size: i === 0 ? size : SIZE.text })));
      room(lines.length * size * 1.5 + 4);
      y -= size * 1.5;
      write(LABEL_X, SIZE.text, row.label, 0.4);
      lines.forEach(({ line, size: lineSize }, i) => {
        if (i > 0) y -= lineSize * 1.4;
        write(VALUE_X, lineSize, line);
      });
    }
  }
  return pages.map((lines) => lines.join('\n'));
}

/** A value broken into lines that fit the value column (ASCII half an em, the rest a full em). */
function wrap(text: string, size: number): string[] {
  const lines: string[] = [];
  let line = '';
  let width = 0;
  for (const char of text) {
    const advance = (char.charCodeAt(0) < 0x80 ? 0.5 : 1) * size;
    if (width + advance > VALUE_WIDTH && line) {
      lines.push(line);
      [line, width] = ['', 0];
    }
    line += char;
    width += advance;
  }
  return [...lines, line];
}

/** `2026-12-07 16:05:09 (UTC+08:00)`: the voucher's times in the business time zone. */
function localTime(iso: string, utcOffsetMinutes: number): string {
  const local = new Date(Date.parse(iso) + utcOffsetMinutes * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const minutes = Math.abs(utcOffsetMinutes);
  return `${local} (UTC${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')})`;
}

/** Text as UCS-2 code units in hex; what UCS-2 cannot hold (outside the Basic Multilingual Plane) becomes `?`. */
function ucs2Hex(text: string): string {
  let hex = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    hex += (code > 0xffff ? 0x3f : code).toString(16).padStart(4, '0');
  }
  return hex.toUpperCase();
}

/** A PDF text string in UTF-16BE with its byte order mark (the document's title). */
function utf16Hex(text: string): string {
  let hex = 'FEFF';
  for (let i = 0; i < text.length; i += 1) hex += text.charCodeAt(i).toString(16).padStart(4, '0').toUpperCase();
  return hex;
}

/** Codes are UCS-2 code units, so each maps to itself: one range per high byte (surrogates left out). */
function toUnicodeCMap(): string {
  const ranges: string[] = [];
  for (let high = 0; high < 256; high += 1) {
    if (high >= 0xd8 && high <= 0xdf) continue;
    const hh = high.toString(16).padStart(2, '0').toUpperCase();
    ranges.push(`<${hh}00> <${hh}FF> <${hh}00>`);
  }
  const blocks: string[] = [];
  for (let i = 0; i < ranges.length; i += 100) blocks.push(`${ranges.slice(i, i + 100).length} beginbfrange\n${ranges.slice(i, i + 100).join('\n')}\nendbfrange`);
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

function stream(content: string): string {
  return `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`;
}

function pdfDate(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}
