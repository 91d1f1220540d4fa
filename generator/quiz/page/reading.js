  // ---------------------------------------------------------------- reading a number
  // graders/submissions.py's parse_number and decimals_of, for a comma-separated file
  // (the page's boxes: a lone comma is a decimal comma).
  let ANSWER_DIGITS = null, ANSWER_PLACES = null; // defaults', in the page's limits
  const PLAIN = /^-?[0-9]+\.[0-9]+$/;
  const SPACES = /[ \u00a0\u2009\u202f\u2007]/g;
  const GROUPED = {
    "false,true": /^-?[1-9][0-9]{0,2}(,[0-9]{3})+\.[0-9]*$/,
    "true,true": /^-?[1-9][0-9]{0,2}(\.[0-9]{3})+,[0-9]*$/,
    "false,false": /^-?[1-9][0-9]{0,2}(,[0-9]{3})+$/,
    "true,false": /^-?[1-9][0-9]{0,2}(\.[0-9]{3})+$/,
  };
  // Python's \d is any Unicode decimal digit, and Decimal() reads each as its value
  const ND = /\p{Nd}/u;
  function asciiDigits(text) {
    let out = "";
    for (const c of text) {
      if (c >= "0" && c <= "9") out += c;
      else if (ND.test(c)) {
        // the digits come in runs of ten, 0 to 9, some runs side by side (the five of
        // the mathematical digits, U+1D7CE to U+1D7FF): the distance from the first
        // digit of the whole block, modulo ten
        const cp = c.codePointAt(0);
        let start = cp;
        while (ND.test(String.fromCodePoint(start - 1))) start -= 1;
        out += String((cp - start) % 10);
      } else out += c;
    }
    return out;
  }
  const NUMBER_RE = /^-?(\p{Nd}+\.?\p{Nd}*|\.\p{Nd}+)([eE][-+]?\p{Nd}+)?$/u;
  const DIGITS_COMMA = /^-?\p{Nd}*,\p{Nd}+$/u;
  // str.strip(): what Python counts as white space (JavaScript's trim differs)
  const PY_SPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  const STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");
  const pyStrip = (s) => s.replace(STRIP, "");
  const cpLength = (s) => Array.from(s).length;
  const cpSlice = (s, a, b) => Array.from(s).slice(a, b).join("");

  function withoutThousands(text, decimalComma, whole) {
    const sep = decimalComma ? "." : ",";
    if (
      GROUPED[`${decimalComma},true`].test(text) ||
      (whole && GROUPED[`${decimalComma},false`].test(text))
    ) {
      return text.split(sep).join("").split(",").join(".");
    }
    return text;
  }

  /** parse_number: a Dec, or throws an Error whose message is grade's words. */
  function parseNumber(raw, decimalComma, whole) {
    const usual = cpLength(raw) <= 24 && PLAIN.test(raw) && raw.indexOf(".") <= ANSWER_DIGITS;
    if (usual && !(whole && decimalComma)) return dparse(raw);
    let text = raw.replace(SPACES, "").split("\u2212").join("-");
    if (text.startsWith("+") && !text.startsWith("+-") && !text.startsWith("++")) {
      text = text.slice(1);
    }
    text = withoutThousands(text, decimalComma, whole);
    if (
      text.split(",").length === 2 &&
      !text.includes(".") &&
      (decimalComma || DIGITS_COMMA.test(text))
    ) {
      text = text.replace(",", ".");
    }
    if (!NUMBER_RE.test(text)) {
      const low = text.toLowerCase().replace(/^-+/, "");
      if (low === "nan" || low === "inf" || low === "infinity") {
        throw new Error(`'${raw}' is not a finite number`);
      }
      throw new Error(`'${raw}' is not a number`);
    }
    return gradable(asciiDigits(text), raw);
  }

  function gradable(text, raw) {
    // out_of_bounds, on the digits and the exponent alone
    const t = DEC_RE.exec(text);
    const frac = t[3] || "";
    const digits = ((t[2] || "") + frac).replace(/^0+/, "");
    const exponent = (t[4] ? BigInt(t[4]) : 0n) - BigInt(frac.length);
    let why = null;
    if (exponent < BigInt(-ANSWER_PLACES)) why = `more than ${ANSWER_PLACES} decimal places`;
    else if (digits !== "" && exponent + BigInt(digits.length - 1) >= BigInt(ANSWER_DIGITS)) {
      why = `out of range (less than ${10 ** ANSWER_DIGITS} in size)`;
    }
    if (why === null) {
      const m = BigInt(((t[2] || "") + frac) || "0") * (t[1] === "-" ? -1n : 1n);
      return new Dec(m, Number(exponent));
    }
    const shown = cpLength(raw) <= 24 ? raw : cpSlice(raw, 0, 21) + "...";
    if (why.startsWith("out of range")) throw new Error(`'${shown}' is out of range`);
    throw new Error(`'${shown}' has ${why}: not a number we can grade`);
  }

  function decimalsOf(raw) {
    const text = pyStrip(raw).split(",").join(".");
    if (text.includes("e") || text.includes("E")) return null;
    const chars = Array.from(text);
    const dot = chars.indexOf(".");
    return dot >= 0 ? chars.length - dot - 1 : 0;
  }

