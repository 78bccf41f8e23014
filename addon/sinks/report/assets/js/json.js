// JSON indented as text, never parsed: numbers of any width and key order stay exactly as sent
// (JSON.parse would round wide integers and move integer-like keys to the front).

function prettyJSON(text, indentBy = 2) {
  const out = [];
  const n = text.length;
  let depth = 0;
  let i = 0;
  const newline = () => out.push('\n' + ' '.repeat(depth * indentBy));
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < n) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          j = n;
          break;
        }
        let backslashes = 0;
        for (let b = q - 1; b > i && text[b] === '\\'; b--) backslashes++;
        j = q + 1;
        if (backslashes % 2 === 0) break;
      }
      out.push(text.slice(i, j));
      i = j;
      continue;
    }
    if (c === '{' || c === '[') {
      let k = i + 1;
      while (k < n && ' \t\r\n'.includes(text[k])) k++;
      const close = c === '{' ? '}' : ']';
      if (text[k] === close) {
        out.push(c + close);
        i = k + 1;
        continue;
      }
      out.push(c);
      depth++;
      newline();
    } else if (c === '}' || c === ']') {
      depth = Math.max(0, depth - 1);
      newline();
      out.push(c);
    } else if (c === ',') {
      out.push(',');
      newline();
    } else if (c === ':') {
      out.push(': ');
    } else if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') {
      let j = i + 1;
      while (j < n && !'"{}[],: \t\r\n'.includes(text[j])) j++;
      out.push(text.slice(i, j));
      i = j;
      continue;
    }
    i++;
  }
  return out.join('');
}

// Tool input for people: indented when it is JSON, as it is when the model left it broken.
function prettyMaybe(text) {
  const t = (text || '').trim();
  if (!t || (t[0] !== '{' && t[0] !== '[')) return text || '';
  try {
    JSON.parse(t);
  } catch (e) {
    return text;
  }
  return prettyJSON(t);
}
