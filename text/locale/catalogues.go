package locale

import "sync"

// catalogues returns the splash's strings by language. English is the
// source; every catalogue has every key (TestCataloguesComplete). They
// are made the first time they are needed, not at the process's start.
var catalogues = sync.OnceValue(func() map[string]*Catalogue {
	return map[string]*Catalogue{
		"en": {Lang: "en", msgs: map[Key]string{
			Details:       "Press Esc for details",
			Password:      "Password:",
			Retry:         "That did not work. Try again.",
			CapsLock:      "Caps Lock is on",
			SecureBootOff: "Secure Boot is off",
		}},
		"fr": {Lang: "fr", msgs: map[Key]string{
			Details:       "Appuyez sur Échap pour les détails",
			Password:      "Mot de passe :",
			Retry:         "Cela n’a pas fonctionné. Réessayez.",
			CapsLock:      "Verr. Maj. est activé",
			SecureBootOff: "Le démarrage sécurisé est désactivé",
		}},
		"de": {Lang: "de", msgs: map[Key]string{
			Details:       "Esc drücken für Details",
			Password:      "Passwort:",
			Retry:         "Das hat nicht geklappt. Bitte erneut versuchen.",
			CapsLock:      "Feststelltaste ist aktiv",
			SecureBootOff: "Secure Boot ist deaktiviert",
		}},
		"es": {Lang: "es", msgs: map[Key]string{
			Details:       "Pulse Esc para ver los detalles",
			Password:      "Contraseña:",
			Retry:         "No ha funcionado. Inténtelo de nuevo.",
			CapsLock:      "Bloq Mayús está activado",
			SecureBootOff: "El arranque seguro está desactivado",
		}},
		"ru": {Lang: "ru", msgs: map[Key]string{
			Details:       "Нажмите Esc для подробностей",
			Password:      "Пароль:",
			Retry:         "Не получилось. Попробуйте ещё раз.",
			CapsLock:      "Включён Caps Lock",
			SecureBootOff: "Безопасная загрузка отключена",
		}},
		"ar": {Lang: "ar", RTL: true, msgs: map[Key]string{
			Details:       "اضغط Esc لعرض التفاصيل",
			Password:      "كلمة المرور:",
			Retry:         "لم ينجح ذلك. حاول مرة أخرى.",
			CapsLock:      "مفتاح Caps Lock مفعّل",
			SecureBootOff: "التمهيد الآمن معطّل",
		}},
		"he": {Lang: "he", RTL: true, msgs: map[Key]string{
			Details:       "הקש Esc לפרטים",
			Password:      "סיסמה:",
			Retry:         "זה לא הצליח. נסה שוב.",
			CapsLock:      "מקש Caps Lock פעיל",
			SecureBootOff: "אתחול מאובטח כבוי",
		}},
		"zh_CN": {Lang: "zh_CN", msgs: map[Key]string{
			Details:       "按 Esc 查看详细信息",
			Password:      "密码：",
			Retry:         "未成功，请重试。",
			CapsLock:      "大写锁定已开启",
			SecureBootOff: "安全启动已关闭",
		}},
		"zh_TW": {Lang: "zh_TW", msgs: map[Key]string{
			Details:       "按 Esc 檢視詳細資訊",
			Password:      "密碼：",
			Retry:         "未成功，請再試一次。",
			CapsLock:      "大寫鎖定已開啟",
			SecureBootOff: "安全開機已關閉",
		}},
		"ja": {Lang: "ja", msgs: map[Key]string{
			Details:       "詳細を表示するには Esc キーを押してください",
			Password:      "パスワード：",
			Retry:         "うまくいきませんでした。もう一度お試しください。",
			CapsLock:      "Caps Lock がオンです",
			SecureBootOff: "セキュアブートが無効です",
		}},
		"hi": {Lang: "hi", msgs: map[Key]string{
			Details:       "विवरण के लिए Esc दबाएँ",
			Password:      "पासवर्ड:",
			Retry:         "यह काम नहीं किया। फिर से प्रयास करें।",
			CapsLock:      "Caps Lock चालू है",
			SecureBootOff: "सिक्योर बूट बंद है",
		}},
	}
})
