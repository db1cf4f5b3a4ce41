pub mod bbox;
