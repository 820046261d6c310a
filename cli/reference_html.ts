/**
 * The `index.html` the reference's `util/html.py` (dominate) writes for
 * test results: a title, then per image an `<h3>` with its name and a table
 * row of its visuals, each linked to the full image.
 *
 * @module
 */

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** One image's row: its name and its visuals as `[file, label]`. */
export interface ReferenceHtmlRow {
  /** The image's name (its file name without extension). */
  name: string;
  /** Files in `images/` and their labels (`real_A`, `fake_B`, …). */
  images: [string, string][];
}

/**
 * The page for `rows`, images shown `width` pixels wide, laid out as
 * dominate renders the reference's `HTML` class.
 *
 * @example
 * ```ts
 * import { referenceIndexHtml } from "@p2p/cli";
 * const html = referenceIndexHtml("Experiment = x", [{ name: "1", images: [["1_fake_B.png", "fake_B"]] }], 256);
 * console.log(html.includes('<img src="images/1_fake_B.png" style="width:256px">')); // true
 * ```
 */
export function referenceIndexHtml(
  title: string,
  rows: ReferenceHtmlRow[],
  width: number,
): string {
  const out = [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    `    <title>${esc(title)}</title>`,
    "  </head>",
    "  <body>",
  ];
  for (const row of rows) {
    out.push(`    <h3>${esc(row.name)}</h3>`);
    out.push(
      '    <table border="1" style="table-layout: fixed;">',
      "      <tr>",
    );
    for (const [file, label] of row.images) {
      const src = `images/${esc(file)}`;
      out.push(
        '        <td halign="center" style="word-wrap: break-word;" valign="top">',
        "          <p>",
        `            <a href="${src}">`,
        `              <img src="${src}" style="width:${width}px">`,
        "            </a>",
        "            <br>",
        `            <p>${esc(label)}</p>`,
        "          </p>",
        "        </td>",
      );
    }
    out.push("      </tr>", "    </table>");
  }
  out.push("  </body>", "</html>");
  return out.join("\n") + "\n";
}
