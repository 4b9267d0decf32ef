//! The built-in checklist packs, in zh-CN and English, taken from the patrol and maintenance
//! regulations Fieldbook was specified from. Service companies add their own on the server;
//! these are the starting set every device has.

use crate::checklist::{ChecklistItem, ChecklistTemplate, ItemKind, Method, Standard};
use crate::ids::TemplateId;
use crate::text::Bilingual;

/// Built-in templates have fixed ids, so every device and the server name them alike.
fn fixed_id(n: u128) -> TemplateId {
    TemplateId::from_uuid(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n))
}

struct Item {
    key: &'static str,
    method: Method,
    standard: Option<Standard>,
    zh: &'static str,
    en: &'static str,
    kind: ItemKind,
    required: bool,
    photo_required: bool,
}

fn check(key: &'static str, method: Method, zh: &'static str, en: &'static str) -> Item {
    Item { key, method, standard: None, zh, en, kind: ItemKind::Check, required: true, photo_required: false }
}

fn reading(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    unit: &str,
    min: Option<f64>,
    max: Option<f64>,
) -> Item {
    Item { kind: ItemKind::Reading { unit: unit.to_owned(), min, max }, ..check(key, Method::Test, zh, en) }
}

impl Item {
    fn standard(self, standard: Standard) -> Self {
        Item { standard: Some(standard), ..self }
    }

    fn optional(self) -> Self {
        Item { required: false, ..self }
    }

    fn with_photo(self) -> Self {
        Item { photo_required: true, ..self }
    }

    fn text(self) -> Self {
        Item { kind: ItemKind::Text, ..self }
    }

    fn build(self) -> ChecklistItem {
        ChecklistItem {
            key: self.key.to_owned(),
            method: self.method,
            standard: self.standard,
            label: Bilingual::new(self.zh, self.en),
            kind: self.kind,
            required: self.required,
            photo_required: self.photo_required,
        }
    }
}

fn template(n: u128, code: &str, zh: &str, en: &str, items: Vec<Item>) -> ChecklistTemplate {
    ChecklistTemplate {
        id: fixed_id(n),
        code: code.to_owned(),
        version: 1,
        name: Bilingual::new(zh, en),
        items: items.into_iter().map(Item::build).collect(),
    }
}

use Method::{Listen, Look, Smell, Test, Touch};
use Standard::{FourNo, SixNoLeak};

/// 设备巡检: the general patrol by 听摸视嗅验 with the 四无 and 六不漏 standards.
pub fn general_patrol() -> ChecklistTemplate {
    template(
        1,
        "patrol.general",
        "通用设备巡检",
        "General equipment patrol",
        vec![
            check("listen.running_sound", Listen, "运行声音正常,无异响", "Running sound normal, no abnormal noise"),
            check("touch.temperature", Touch, "外壳及接线温度正常", "Housing and terminal temperature normal"),
            check("touch.vibration", Touch, "无异常振动", "No abnormal vibration"),
            check("touch.fasteners", Touch, "紧固件及连接部位牢固", "Fasteners and connections tight"),
            check("look.four_no_dust", Look, "无积尘", "No dust").standard(FourNo),
            check("look.four_no_debris", Look, "无杂物", "No debris").standard(FourNo),
            check("look.four_no_loose", Look, "无松动", "No looseness").standard(FourNo),
            check("look.four_no_oil", Look, "无油渍", "No oil stains").standard(FourNo),
            check("look.six_no_air", Look, "不漏风", "No air leaks").standard(SixNoLeak),
            check("look.six_no_gas", Look, "不漏气", "No gas leaks").standard(SixNoLeak),
            check("look.six_no_ash", Look, "不漏灰", "No ash or dust leaks").standard(SixNoLeak),
            check("test.six_no_electricity", Test, "不漏电(绝缘检测)", "No electrical leakage (insulation test)")
                .standard(SixNoLeak),
            check("look.six_no_water", Look, "不漏水", "No water leaks").standard(SixNoLeak),
            check("look.six_no_oil", Look, "不漏油", "No oil leaks").standard(SixNoLeak),
            check("look.complete", Look, "系统完整无缺损", "System complete and intact"),
            check("look.passages", Look, "通道畅通无阻", "Passages unobstructed"),
            check("look.corrosion", Look, "无腐蚀、锈蚀", "No corrosion or rust"),
            check("look.signals", Look, "自动控制及信号指示正常", "Automatic controls and signal lamps normal"),
            check("look.lubrication", Look, "润滑点油位正常", "Lubrication points at level").optional(),
            check("look.sealing", Look, "密封良好", "Sealing in good condition"),
            check("smell.burning", Smell, "无焦糊味", "No burning smell"),
            check("smell.odour", Smell, "无异味", "No unusual odour"),
            reading("test.cabinet_temp", "机柜内温度", "Cabinet internal temperature", "°C", Some(0.0), Some(45.0)),
            reading("test.supply_voltage", "供电电压", "Supply voltage", "V", Some(198.0), Some(242.0)),
            reading("test.insulation", "绝缘电阻", "Insulation resistance", "MΩ", Some(0.5), None),
            check("test.meter_start", Test, "电力仪表读数(开机)", "Power meter reading at start").text(),
            check("look.changes", Look, "与上次巡检相比的变化", "Changes since the last patrol").text().optional(),
            check("look.overview_photo", Look, "现场全景照片", "Overview photo of the installation").with_photo(),
        ],
    )
}

/// 安防监控系统巡检: CCTV and security systems.
pub fn cctv_security() -> ChecklistTemplate {
    template(
        2,
        "patrol.cctv",
        "安防监控系统巡检",
        "CCTV / security system patrol",
        vec![
            check("look.image_quality", Look, "图像清晰,无雪花、无条纹", "Image clear, no snow or stripes"),
            check("test.matrix_switching", Test, "矩阵切换正常", "Matrix switching works"),
            check("test.lens", Test, "镜头变焦、聚焦、光圈正常", "Lens zoom, focus and iris work"),
            check(
                "test.pan_tilt",
                Test,
                "云台上下左右转动及预置位正常",
                "Pan-tilt up/down/left/right and presets work",
            ),
            check("look.cabinet_seal", Look, "室外机箱密封防潮良好", "Outdoor cabinet sealed and damp-proof")
                .with_photo(),
            check("look.lightning", Look, "防雷接地完好", "Lightning protection and earthing intact"),
            check("look.cabling", Look, "机房光纤及线缆整齐完好", "Control-room fibre and cables tidy and intact"),
            check("look.housing", Look, "摄像机护罩清洁完好", "Camera housings clean and intact").standard(FourNo),
            check("listen.fans", Listen, "设备风扇运转无异响", "Equipment fans run without noise"),
            check("smell.control_room", Smell, "机房无焦糊味", "No burning smell in the control room"),
            reading("test.recording_days", "录像保存天数", "Recording retention", "days", Some(30.0), None),
            reading("test.ups_voltage", "UPS 输出电压", "UPS output voltage", "V", Some(209.0), Some(231.0)),
            check("touch.connectors", Touch, "视频接头无松动", "Video connectors not loose").standard(FourNo),
        ],
    )
}

/// 打印机及办公设备保养: printers and office equipment.
pub fn printer_office() -> ChecklistTemplate {
    template(
        3,
        "maintenance.printer",
        "打印机及办公设备保养",
        "Printer / office equipment maintenance",
        vec![
            check("look.print_quality", Look, "打印样张清晰无条纹", "Test page clear, no streaks").with_photo(),
            check("listen.feed_noise", Listen, "进纸无异响", "Paper feed without noise"),
            check("touch.rollers", Touch, "搓纸轮无磨损", "Pick-up rollers not worn"),
            check("look.inside_clean", Look, "机内清洁无纸屑", "Inside clean, no paper dust").standard(FourNo),
            check("smell.fuser", Smell, "定影器无焦味", "No burning smell from the fuser"),
            reading("test.page_count", "计数器读数", "Page counter", "pages", Some(0.0), None),
            reading("test.toner_level", "粉盒余量", "Toner remaining", "%", Some(10.0), Some(100.0)),
            check("test.network", Test, "网络打印正常", "Network printing works"),
            check("look.consumables_note", Look, "耗材更换建议", "Consumables to replace").text().optional(),
        ],
    )
}

/// Every built-in pack.
pub fn builtin() -> Vec<ChecklistTemplate> {
    vec![general_patrol(), cctv_security(), printer_office()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_packs_are_valid_and_bilingual() {
        for t in builtin() {
            t.validate().unwrap();
            assert!(!t.items.is_empty());
            for item in &t.items {
                assert!(!item.label.zh.is_empty() && !item.label.en.is_empty(), "{}", item.key);
                assert!(
                    item.label.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{} has Chinese",
                    item.key
                );
            }
        }
    }

    #[test]
    fn the_general_patrol_covers_every_method_and_both_standards() {
        let t = general_patrol();
        for &method in Method::ALL {
            assert!(t.items.iter().any(|i| i.method == method), "{method}");
        }
        assert_eq!(t.items.iter().filter(|i| i.standard == Some(FourNo)).count(), 4);
        assert_eq!(t.items.iter().filter(|i| i.standard == Some(SixNoLeak)).count(), 6);
    }

    #[test]
    fn builtin_ids_are_fixed_and_distinct() {
        let ids: Vec<_> = builtin().iter().map(|t| t.id).collect();
        assert_eq!(ids, builtin().iter().map(|t| t.id).collect::<Vec<_>>());
        assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), ids.len());
    }
}
