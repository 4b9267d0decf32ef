//! A bare Tauri 2 window with one static page and nothing else: what `./dev bench-app` compares
//! the app's cold start and memory with. Its page records when it was first painted in
//! `window.__painted` (milliseconds since the Unix epoch).

fn main() {
    tauri::Builder::default().run(tauri::generate_context!()).expect("run the bare window");
}
