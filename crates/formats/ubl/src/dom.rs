//! A minimal, owned element tree built from quick-xml events in one linear
//! pass. It refuses DOCTYPE declarations, resolves only the five predefined
//! entities and character references, limits nesting depth, and reports
//! malformed input with byte offset and line.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::UblError;

/// Maximum element nesting depth accepted (UBL documents nest < 15 deep).
const MAX_DEPTH: usize = 256;

pub(crate) type NodeId = u32;

#[derive(Debug)]
pub(crate) struct Node {
    /// Qualified name as written, e.g. `cbc:ID`.
    pub qname: String,
    /// Byte index in `qname` where the local name starts.
    local_start: usize,
    /// Attributes as (qualified name, unescaped value).
    pub attrs: Vec<(String, String)>,
    /// Concatenated character data directly inside this element (untrimmed).
    pub text: String,
    pub parent: Option<NodeId>,
    pub first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    pub next_sibling: Option<NodeId>,
}

impl Node {
    pub fn local(&self) -> &str {
        &self.qname[self.local_start..]
    }

    pub fn prefix(&self) -> Option<&str> {
        (self.local_start > 0).then(|| &self.qname[..self.local_start - 1])
    }
}

#[derive(Debug)]
pub(crate) struct Dom {
    pub nodes: Vec<Node>,
}

pub(crate) const ROOT: NodeId = 0;

impl Dom {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Children of `id` in document order.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.node(id).first_child, move |&c| {
            self.node(c).next_sibling
        })
    }

    /// The namespace URI bound to the root element's prefix, looked up on the
    /// root element itself (the only place it can be declared).
    pub fn root_namespace(&self) -> Option<&str> {
        let root = self.node(ROOT);
        let wanted = match root.prefix() {
            Some(p) => format!("xmlns:{p}"),
            None => "xmlns".to_owned(),
        };
        root.attrs
            .iter()
            .find(|(k, _)| *k == wanted)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Element path like `/Invoice/cac:InvoiceLine[2]/cbc:ID`. An index is
    /// added when the parent has more than one child with the same name.
    pub fn path(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(id);
        while let Some(n) = cur {
            let node = self.node(n);
            let mut part = node.qname.clone();
            if let Some(parent) = node.parent {
                let same: Vec<NodeId> = self
                    .children(parent)
                    .filter(|&c| self.node(c).qname == node.qname)
                    .collect();
                if same.len() > 1 {
                    let index = same.iter().position(|&c| c == n).map_or(0, |i| i + 1);
                    part.push_str(&format!("[{index}]"));
                }
            }
            parts.push(part);
            cur = node.parent;
        }
        parts.reverse();
        let mut out = String::new();
        for p in parts {
            out.push('/');
            out.push_str(&p);
        }
        out
    }
}

fn line_of(input: &[u8], offset: u64) -> u64 {
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(input.len());
    1 + input[..end].iter().filter(|&&b| b == b'\n').count() as u64
}

fn xml_error(input: &[u8], offset: u64, message: impl Into<String>) -> UblError {
    UblError::Xml {
        offset,
        line: line_of(input, offset),
        message: message.into(),
    }
}

fn utf8<'a>(input: &[u8], offset: u64, bytes: &'a [u8]) -> Result<&'a str, UblError> {
    std::str::from_utf8(bytes).map_err(|_| xml_error(input, offset, "invalid UTF-8"))
}

struct Builder<'i> {
    input: &'i [u8],
    nodes: Vec<Node>,
    stack: Vec<NodeId>,
    root_done: bool,
}

impl Builder<'_> {
    fn open(&mut self, e: &BytesStart<'_>, offset: u64) -> Result<NodeId, UblError> {
        if self.stack.is_empty() && (self.root_done || !self.nodes.is_empty()) {
            return Err(xml_error(self.input, offset, "more than one root element"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(xml_error(
                self.input,
                offset,
                format!("elements nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let qname = utf8(self.input, offset, e.name().as_ref())?.to_owned();
        let local_start = qname.find(':').map_or(0, |i| i + 1);
        let mut attrs = Vec::new();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| xml_error(self.input, offset, err.to_string()))?;
            let key = utf8(self.input, offset, attr.key.as_ref())?.to_owned();
            let value = attr
                .unescape_value()
                .map_err(|err| xml_error(self.input, offset, err.to_string()))?
                .into_owned();
            attrs.push((key, value));
        }
        let id = NodeId::try_from(self.nodes.len())
            .map_err(|_| xml_error(self.input, offset, "too many elements"))?;
        let parent = self.stack.last().copied();
        self.nodes.push(Node {
            qname,
            local_start,
            attrs,
            text: String::new(),
            parent,
            first_child: None,
            last_child: None,
            next_sibling: None,
        });
        if let Some(p) = parent {
            match self.nodes[p as usize].last_child {
                Some(last) => self.nodes[last as usize].next_sibling = Some(id),
                None => self.nodes[p as usize].first_child = Some(id),
            }
            self.nodes[p as usize].last_child = Some(id);
        }
        Ok(id)
    }

    fn push_text(&mut self, text: &str, offset: u64) -> Result<(), UblError> {
        match self.stack.last() {
            Some(&top) => {
                self.nodes[top as usize].text.push_str(text);
                Ok(())
            }
            None if text
                .bytes()
                .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) =>
            {
                Ok(())
            }
            None => Err(xml_error(
                self.input,
                offset,
                "character data outside the root element",
            )),
        }
    }
}

/// Parses `input` into a [`Dom`]. Node 0 is the root element.
pub(crate) fn build(input: &[u8]) -> Result<Dom, UblError> {
    // A UTF-8 byte order mark is allowed before the XML declaration.
    let bom = if input.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut reader = Reader::from_reader(&input[bom..]);
    let mut b = Builder {
        input,
        nodes: Vec::with_capacity((input.len() / 64).min(4096)),
        stack: Vec::with_capacity(16),
        root_done: false,
    };
    let bom = bom as u64;
    loop {
        let before = reader.buffer_position() + bom;
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(err) => {
                return Err(xml_error(
                    input,
                    reader.error_position() + bom,
                    err.to_string(),
                ));
            }
        };
        match event {
            Event::DocType(_) => {
                return Err(UblError::DoctypeRefused {
                    offset: reader.buffer_position() + bom,
                });
            }
            Event::Start(e) => {
                let id = b.open(&e, before)?;
                b.stack.push(id);
            }
            Event::Empty(e) => {
                b.open(&e, before)?;
                if b.stack.is_empty() {
                    b.root_done = true;
                }
            }
            Event::End(_) => {
                b.stack.pop();
                if b.stack.is_empty() {
                    b.root_done = true;
                }
            }
            Event::Text(t) => {
                let text = t
                    .xml10_content()
                    .map_err(|_| xml_error(input, before, "invalid UTF-8"))?;
                b.push_text(&text, before)?;
            }
            Event::CData(t) => {
                let text = t
                    .xml10_content()
                    .map_err(|_| xml_error(input, before, "invalid UTF-8"))?;
                if b.stack.is_empty() {
                    return Err(xml_error(input, before, "CDATA outside the root element"));
                }
                b.push_text(&text, before)?;
            }
            Event::GeneralRef(r) => {
                let resolved: String = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = utf8(input, before, &r)?;
                        match quick_xml::escape::resolve_predefined_entity(name) {
                            Some(s) => s.to_owned(),
                            None => {
                                return Err(xml_error(
                                    input,
                                    before,
                                    format!(
                                        "undeclared entity &{name}; (only the five predefined XML entities are allowed)"
                                    ),
                                ));
                            }
                        }
                    }
                    Err(err) => return Err(xml_error(input, before, err.to_string())),
                };
                if b.stack.is_empty() {
                    return Err(xml_error(
                        input,
                        before,
                        "reference outside the root element",
                    ));
                }
                b.push_text(&resolved, before)?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(&open) = b.stack.last() {
        let name = b.nodes[open as usize].qname.clone();
        return Err(xml_error(
            input,
            input.len() as u64,
            format!("unexpected end of input: element <{name}> is not closed"),
        ));
    }
    if b.nodes.is_empty() {
        return Err(xml_error(input, input.len() as u64, "no root element"));
    }
    Ok(Dom { nodes: b.nodes })
}
