//! A bare Tauri 2 window with one static page and nothing else: what `./dev bench-app` compares
//! the app's cold start and memory with. Its page records when it was first painted in
//! `window.__painted` (milliseconds since the Unix epoch).

#[allow(unsafe_code)]
fn main() {
    // The same renderer choice as the app makes (`draw_on_the_cpu_without_a_gpu` in src-tauri,
    // copied rather than linked so this window carries none of the app), so the comparison is
    // of what the window shows, not of how WebKit draws it.
    #[cfg(target_os = "linux")]
    {
        let gpu = std::fs::read_dir("/dev/dri")
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
            .unwrap_or(false);
        if !gpu && std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
            // SAFETY: no other thread exists yet.
            unsafe { std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1") };
        }
    }
    tauri::Builder::default().run(tauri::generate_context!()).expect("run the bare window");
}
