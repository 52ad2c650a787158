//! The Typst world a letter is compiled in: the embedded fonts, the standard library, the
//! template files and the letter's data as the virtual file `/data.json`. No file system, no
//! network, no system fonts, no clock: "today" is the letter's creation date.

use std::collections::HashMap;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The font files compiled into the binary (see `fonts/README.md`).
const FONT_FILES: [&[u8]; 4] = [
    include_bytes!("../fonts/Inter-Regular.otf"),
    include_bytes!("../fonts/Inter-Italic.otf"),
    include_bytes!("../fonts/Inter-SemiBold.otf"),
    include_bytes!("../fonts/Inter-Bold.otf"),
];

/// What every compilation shares, built once per process: the standard library and the fonts.
pub(crate) struct Shared {
    pub library: LazyHash<Library>,
    pub book: LazyHash<FontBook>,
    pub fonts: Vec<Font>,
}

pub(crate) static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect();
    Shared {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// The file id of a path in the project root (`nl/lib.typ`, `data.json`).
pub(crate) fn file_id(path: &str) -> Option<FileId> {
    let vpath = VirtualPath::new(path).ok()?;
    Some(FileId::new(RootedPath::new(VirtualRoot::Project, vpath)))
}

/// One template file, parsed once.
#[derive(Clone)]
pub(crate) struct File {
    pub source: Source,
    pub bytes: Bytes,
}

impl File {
    pub fn new(id: FileId, text: String) -> File {
        let bytes = Bytes::from_string(text.clone());
        File {
            source: Source::new(id, text),
            bytes,
        }
    }
}

pub(crate) static DATA_ID: LazyLock<Option<FileId>> = LazyLock::new(|| file_id("data.json"));

/// The world of one compilation.
pub(crate) struct LetterWorld<'a> {
    pub files: &'a HashMap<FileId, File>,
    pub main: FileId,
    pub data: Bytes,
    pub today: Option<Datetime>,
}

impl World for LetterWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &SHARED.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &SHARED.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match self.files.get(&id) {
            Some(f) => Ok(f.source.clone()),
            None => Err(not_found(id)),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if Some(id) == *DATA_ID {
            return Ok(self.data.clone());
        }
        match self.files.get(&id) {
            Some(f) => Ok(f.bytes.clone()),
            None => Err(not_found(id)),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        SHARED.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(std::path::PathBuf::from(id.get().vpath().get_with_slash()))
}
