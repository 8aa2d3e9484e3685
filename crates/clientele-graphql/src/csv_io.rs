pub use clientele_store::import_export::*;
