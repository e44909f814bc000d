// Every string of the participant pages, in English and Spanish (the instruments' own text
// comes from the server in the chosen language). Keys must match between languages: a test
// checks it.
export const STRINGS = {
  en: {
    "lang.other": "Español",
    "lang.other_code": "es",
    "lang.switch_label": "Ver en español",
    "app.program": "Study Check-in",
    "app.loading": "Loading…",
    "contact.call": "Questions? Call your study team:",
    "contact.site": "{site}",

    "home.title": "Your surveys",
    "home.due": "To do now",
    "home.due_until_end": "Please answer by the end of {date}.",
    "home.due_until": "Please answer by {datetime}.",
    "home.finish_by": "You have started this survey. You can finish it until {datetime}.",
    "home.questionnaires": "{count} questionnaires.",
    "home.questionnaires_one": "1 questionnaire.",
    "home.duration": "It takes about {count} minutes.",
    "home.duration_one": "It takes about 1 minute.",
    "home.percent_done": "You have answered {percent}% of the questions.",
    "home.start": "Start the survey",
    "home.continue": "Continue the survey",
    "home.nothing_title": "Nothing to do right now",
    "home.nothing_text": "Thank you! You have no survey to answer today.",
    "home.next_survey": "Your next survey opens on {date}.",
    "home.upcoming": "Coming up",
    "home.opens_on": "{name}: opens on {date}",
    "home.visits": "Your study visits",
    "home.no_visits": "No visits are booked right now.",
    "home.history": "Surveys you completed",
    "home.history_item": "{name}: completed on {date}",
    "home.pending": "Your answers to “{name}” are saved on this phone and will be sent when you are back online.",
    "notify.title": "Notifications",
    "notify.intro": "Get a notification on this phone when a survey opens or a visit is near. It never shows your answers or health details.",
    "notify.switch": "Notifications on this phone",
    "notify.on": "On: this phone will get your study reminders.",
    "notify.off": "Off: reminders come the way your study team set up.",
    "notify.working": "One moment…",
    "notify.blocked": "Notifications are blocked for this page. You can allow them in your browser's settings.",
    "notify.unsupported": "This browser cannot show notifications. On an iPhone, first add this page to your Home Screen (see below), then open it from there.",
    "notify.failed": "Notifications could not be turned on. Please try again later.",
    "install.title": "Add to your Home Screen",
    "install.intro": "Open your surveys with one tap, like an app.",
    "install.button": "Install the app",
    "install.iphone": "iPhone or iPad (Safari):",
    "install.iphone_1": "Tap the Share button (a square with an arrow pointing up).",
    "install.iphone_2": "Scroll down and tap “Add to Home Screen”.",
    "install.iphone_3": "Tap “Add”. Then open the app from your Home Screen.",
    "install.android": "Android (Chrome):",
    "install.android_1": "Tap the menu (three dots) at the top right.",
    "install.android_2": "Tap “Install app” or “Add to Home screen”, then “Install”.",

    "visit.phone": "Phone call with your study team",
    "visit.video": "Video call with your study team",
    "visit.when": "{datetime} ({minutes} minutes)",
    "visit.add": "Add to calendar",
    "visit.add_label": "Add the {datetime} visit to your calendar",
    "visit.join": "Join the video call",

    "a.BASELINE": "Starting survey",
    "a.infusion": "Day {day} survey after infusion {n}",

    "survey.page": "Page {n} of {total}",
    "survey.back": "Back",
    "survey.next": "Next",
    "survey.to_review": "Save and go back to the review",
    "survey.home": "My surveys",
    "survey.required": "Please answer this question to go on.",
    "survey.required_group": "Please answer every question on this page to go on.",
    "survey.unanswered": "Not answered yet",
    "survey.check_all": "Check all that apply. If none apply, choose Next.",
    "survey.choose_one": "Choose one answer.",

    "nrs.anchor": "{value} = {text}",
    "vas.how": "Tap the line at the point that fits best. You can then move the mark.",
    "vas.untouched": "Not marked yet",
    "vas.value": "{value} out of 100",
    "vas.left": "Move the mark left",
    "vas.right": "Move the mark right",

    "save.saving": "Saving…",
    "save.saved": "Your answers are saved.",
    "save.offline": "No connection right now. Your answers are kept on this phone and will be sent when you are back online.",
    "save.refused": "This answer could not be saved. Please check it.",

    "review.title": "Check your answers",
    "review.intro": "You can open each questionnaire to check or change an answer before you send them.",
    "review.intro_missing": "Open a questionnaire to check or change an answer.",
    "review.group_count_one": "1 answer",
    "review.group_count": "{count} answers",
    "review.group_missing": "{count} not answered",
    "review.change": "Change",
    "review.change_label": "Change the answer to: {question}",
    "review.not_answered": "Not answered",
    "review.none_checked": "None checked",
    "review.vas": "Marked at {value} out of 100",
    "review.missing": "Some questions are not answered yet.",
    "review.go_missing": "Go to the first question not answered",
    "review.send": "Send my answers",
    "review.sending": "Sending your answers…",
    "review.refused": "Some answers were not accepted. Please check them.",

    "done.title": "Thank you! Your answers were sent.",
    "done.text": "We received them on {datetime}.",
    "done.home": "Back to my surveys",

    "queued.title": "Your answers are saved on this phone",
    "queued.text": "There is no internet connection right now. Your answers will be sent by themselves as soon as your phone is back online.",
    "queued.keep": "You can leave this page open. If you close it, they will be sent the next time you open your link on this phone.",
    "queued.retry": "Try to send now",
    "queued.still": "Still no connection. We will keep trying.",

    "state.not_open.title": "This survey is not open yet",
    "state.not_open.text": "It opens on {date}. We will send you a reminder.",
    "state.closed.title": "This survey is closed",
    "state.closed.text": "The time to answer it ended on {date}. Surveys cannot be answered after they close.",
    "state.completed.title": "You already completed this survey",
    "state.completed.text": "Thank you. You sent it on {date}.",
    "state.cancelled.title": "This survey is no longer needed",
    "state.cancelled.text": "Your study team cancelled it. You do not need to do anything.",
    "state.not_found.title": "Survey not found",
    "state.not_found.text": "This survey is not in your list.",
    "state.link_expired.title": "This link has expired",
    "state.link_expired.text": "For your safety, links stop working after a while. Please open the link in your most recent message from the study, or call your study team for a new one.",
    "state.no_session.title": "Please open your link",
    "state.no_session.text": "To see your surveys, open the link in your most recent message from the study.",
    "state.offline.title": "No internet connection",
    "state.offline.text": "This page needs a connection to open. Please try again when your phone is online.",
    "state.error.title": "Something went wrong",
    "state.error.text": "Please try again in a few minutes. If it keeps happening, call your study team.",
    "state.retry": "Try again",
    "state.home": "Go to my surveys",

    "sf.birth_year.title": "Enter the year you were born",
    "sf.birth_year.label": "Year you were born (4 digits, for example 1961)",
    "sf.pin.title": "Enter your PIN",
    "sf.pin.label": "Your PIN (4 to 8 digits)",
    "sf.intro": "For your safety, we ask this before showing your surveys.",
    "sf.submit": "Continue",
    "sf.empty": "Please enter it to continue.",
    "sf.wrong": "That does not match what your study team recorded. Please try again.",
    "sf.locked": "Too many tries. Please wait 15 minutes, or call your study team.",
    "sf.not_set.title": "Your sign-in is not ready",
    "sf.not_set.text": "Your study team has not finished setting up your sign-in. Please call them.",
    "sf.too_many": "Too many tries from this phone. Please wait a minute and try again."
  },
  es: {
    "lang.other": "English",
    "lang.other_code": "en",
    "lang.switch_label": "View in English",
    "app.program": "Study Check-in",
    "app.loading": "Cargando…",
    "contact.call": "¿Preguntas? Llame a su equipo del estudio:",
    "contact.site": "{site}",

    "home.title": "Sus encuestas",
    "home.due": "Para hacer ahora",
    "home.due_until_end": "Por favor, responda antes de que termine el {date}.",
    "home.due_until": "Por favor, responda antes del {datetime}.",
    "home.finish_by": "Ya empezó esta encuesta. Puede terminarla hasta el {datetime}.",
    "home.questionnaires": "{count} cuestionarios.",
    "home.questionnaires_one": "1 cuestionario.",
    "home.duration": "Toma unos {count} minutos.",
    "home.duration_one": "Toma alrededor de 1 minuto.",
    "home.percent_done": "Ya respondió el {percent} % de las preguntas.",
    "home.start": "Empezar la encuesta",
    "home.continue": "Continuar la encuesta",
    "home.nothing_title": "No hay nada que hacer ahora",
    "home.nothing_text": "¡Gracias! Hoy no tiene ninguna encuesta para responder.",
    "home.next_survey": "Su próxima encuesta se abre el {date}.",
    "home.upcoming": "Próximamente",
    "home.opens_on": "{name}: se abre el {date}",
    "home.visits": "Sus visitas del estudio",
    "home.no_visits": "No tiene visitas programadas por ahora.",
    "home.history": "Encuestas que completó",
    "home.history_item": "{name}: completada el {date}",
    "home.pending": "Sus respuestas a «{name}» están guardadas en este teléfono y se enviarán cuando vuelva a tener conexión.",
    "notify.title": "Notificaciones",
    "notify.intro": "Reciba una notificación en este teléfono cuando se abra una encuesta o se acerque una visita. Nunca muestra sus respuestas ni datos de salud.",
    "notify.switch": "Notificaciones en este teléfono",
    "notify.on": "Activadas: este teléfono recibirá los recordatorios del estudio.",
    "notify.off": "Desactivadas: los recordatorios llegan como los configuró su equipo del estudio.",
    "notify.working": "Un momento…",
    "notify.blocked": "Las notificaciones están bloqueadas para esta página. Puede permitirlas en la configuración de su navegador.",
    "notify.unsupported": "Este navegador no puede mostrar notificaciones. En un iPhone, primero agregue esta página a su pantalla de inicio (vea abajo) y ábrala desde allí.",
    "notify.failed": "No se pudieron activar las notificaciones. Por favor, inténtelo más tarde.",
    "install.title": "Agregar a su pantalla de inicio",
    "install.intro": "Abra sus encuestas con un toque, como una aplicación.",
    "install.button": "Instalar la aplicación",
    "install.iphone": "iPhone o iPad (Safari):",
    "install.iphone_1": "Toque el botón Compartir (un cuadrado con una flecha hacia arriba).",
    "install.iphone_2": "Deslice hacia abajo y toque «Agregar a inicio».",
    "install.iphone_3": "Toque «Agregar». Luego abra la aplicación desde su pantalla de inicio.",
    "install.android": "Android, con Chrome:",
    "install.android_1": "Toque el menú (tres puntos) arriba a la derecha.",
    "install.android_2": "Toque «Instalar aplicación» o «Agregar a la pantalla principal» y luego «Instalar».",

    "visit.phone": "Llamada telefónica con su equipo del estudio",
    "visit.video": "Videollamada con su equipo del estudio",
    "visit.when": "{datetime} ({minutes} minutos)",
    "visit.add": "Agregar al calendario",
    "visit.add_label": "Agregar la visita del {datetime} a su calendario",
    "visit.join": "Unirse a la videollamada",

    "a.BASELINE": "Encuesta inicial",
    "a.infusion": "Encuesta del día {day} después de la infusión {n}",

    "survey.page": "Página {n} de {total}",
    "survey.back": "Atrás",
    "survey.next": "Siguiente",
    "survey.to_review": "Guardar y volver a la revisión",
    "survey.home": "Mis encuestas",
    "survey.required": "Por favor, responda esta pregunta para continuar.",
    "survey.required_group": "Por favor, responda todas las preguntas de esta página para continuar.",
    "survey.unanswered": "Sin responder todavía",
    "survey.check_all": "Marque todas las que correspondan. Si ninguna corresponde, elija Siguiente.",
    "survey.choose_one": "Elija una respuesta.",

    "nrs.anchor": "{value} = {text}",
    "vas.how": "Toque la línea en el punto que mejor corresponda. Después puede mover la marca.",
    "vas.untouched": "Sin marcar todavía",
    "vas.value": "{value} de 100",
    "vas.left": "Mover la marca a la izquierda",
    "vas.right": "Mover la marca a la derecha",

    "save.saving": "Guardando…",
    "save.saved": "Sus respuestas están guardadas.",
    "save.offline": "No hay conexión ahora. Sus respuestas se guardan en este teléfono y se enviarán cuando vuelva a tener conexión.",
    "save.refused": "No se pudo guardar esta respuesta. Por favor, revísela.",

    "review.title": "Revise sus respuestas",
    "review.intro": "Puede abrir cada cuestionario para revisar o cambiar una respuesta antes de enviarlas.",
    "review.intro_missing": "Abra un cuestionario para revisar o cambiar una respuesta.",
    "review.group_count_one": "1 respuesta",
    "review.group_count": "{count} respuestas",
    "review.group_missing": "{count} sin responder",
    "review.change": "Cambiar",
    "review.change_label": "Cambiar la respuesta a: {question}",
    "review.not_answered": "Sin responder",
    "review.none_checked": "Ninguna marcada",
    "review.vas": "Marcado en {value} de 100",
    "review.missing": "Algunas preguntas no tienen respuesta todavía.",
    "review.go_missing": "Ir a la primera pregunta sin responder",
    "review.send": "Enviar mis respuestas",
    "review.sending": "Enviando sus respuestas…",
    "review.refused": "Algunas respuestas no fueron aceptadas. Por favor, revíselas.",

    "done.title": "¡Gracias! Sus respuestas fueron enviadas.",
    "done.text": "Las recibimos el {datetime}.",
    "done.home": "Volver a mis encuestas",

    "queued.title": "Sus respuestas están guardadas en este teléfono",
    "queued.text": "No hay conexión a internet en este momento. Sus respuestas se enviarán solas en cuanto su teléfono vuelva a tener conexión.",
    "queued.keep": "Puede dejar esta página abierta. Si la cierra, se enviarán la próxima vez que abra su enlace en este teléfono.",
    "queued.retry": "Intentar enviar ahora",
    "queued.still": "Todavía no hay conexión. Lo seguiremos intentando.",

    "state.not_open.title": "Esta encuesta todavía no está abierta",
    "state.not_open.text": "Se abre el {date}. Le enviaremos un recordatorio.",
    "state.closed.title": "Esta encuesta está cerrada",
    "state.closed.text": "El plazo para responderla terminó el {date}. Las encuestas no se pueden responder después de cerrarse.",
    "state.completed.title": "Ya completó esta encuesta",
    "state.completed.text": "Gracias. La envió el {date}.",
    "state.cancelled.title": "Esta encuesta ya no es necesaria",
    "state.cancelled.text": "Su equipo del estudio la canceló. No necesita hacer nada.",
    "state.not_found.title": "No se encontró la encuesta",
    "state.not_found.text": "Esta encuesta no está en su lista.",
    "state.link_expired.title": "Este enlace ya no es válido",
    "state.link_expired.text": "Por su seguridad, los enlaces dejan de funcionar después de un tiempo. Abra el enlace de su mensaje más reciente del estudio o llame a su equipo del estudio para pedir uno nuevo.",
    "state.no_session.title": "Por favor, abra su enlace",
    "state.no_session.text": "Para ver sus encuestas, abra el enlace de su mensaje más reciente del estudio.",
    "state.offline.title": "No hay conexión a internet",
    "state.offline.text": "Esta página necesita conexión para abrirse. Inténtelo de nuevo cuando su teléfono tenga conexión.",
    "state.error.title": "Algo salió mal",
    "state.error.text": "Inténtelo de nuevo en unos minutos. Si sigue pasando, llame a su equipo del estudio.",
    "state.retry": "Intentar de nuevo",
    "state.home": "Ir a mis encuestas",

    "sf.birth_year.title": "Escriba el año en que nació",
    "sf.birth_year.label": "Año en que nació (4 cifras, por ejemplo 1961)",
    "sf.pin.title": "Escriba su PIN",
    "sf.pin.label": "Su PIN (de 4 a 8 cifras)",
    "sf.intro": "Por su seguridad, le pedimos esto antes de mostrar sus encuestas.",
    "sf.submit": "Continuar",
    "sf.empty": "Escríbalo para continuar.",
    "sf.wrong": "No coincide con lo que registró su equipo del estudio. Inténtelo de nuevo.",
    "sf.locked": "Demasiados intentos. Espere 15 minutos o llame a su equipo del estudio.",
    "sf.not_set.title": "Su acceso no está listo",
    "sf.not_set.text": "Su equipo del estudio no ha terminado de preparar su acceso. Por favor, llámelos.",
    "sf.too_many": "Demasiados intentos desde este teléfono. Espere un minuto e inténtelo de nuevo."
  }
};

export const LANGUAGES = Object.keys(STRINGS);
const LOCALES = { en: "en-US", es: "es-US" };
let current = "en";

export function setLanguage(lang) {
  current = STRINGS[lang] ? lang : "en";
  document.documentElement.lang = current;
}

export function language() {
  return current;
}

// A value that ends in an abbreviation's full stop ("10:00 a.m.") also ends the sentence:
// "{datetime}." does not print "a.m..".
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}(\.?)/g, (_, name, stop) => {
    const value = name in vars ? String(vars[name]) : `{${name}}`;
    return stop && value.endsWith(".") ? value : value + stop;
  });
}

// A count in words: `key` holds the plural sentence, `${key}_one` the singular one, chosen by
// the language's own plural rule ("1 minute", "1 minuto"; never "about 1 minutes").
export function tn(key, count, vars = {}) {
  const one = `${key}_one`;
  const singular = new Intl.PluralRules(LOCALES[current]).select(count) === "one";
  return t(singular && one in STRINGS[current] ? one : key, { count, ...vars });
}

function format(date, options) {
  return new Intl.DateTimeFormat(LOCALES[current], options).format(date);
}

const DAY = { weekday: "long", month: "long", day: "numeric" };

// A calendar day given as "YYYY-MM-DD" (already local to the participant).
export function formatDay(isoDay) {
  const [y, m, d] = isoDay.split("-").map(Number);
  return format(new Date(Date.UTC(y, m - 1, d, 12)), { ...DAY, timeZone: "UTC" });
}

export function formatDateTime(isoInstant, timeZone) {
  return format(new Date(isoInstant), { ...DAY, hour: "numeric", minute: "2-digit", timeZone });
}

// An instant from the API ({at, local, end_of_day}): a day when it is local midnight.
export function formatOpening(instant, timeZone) {
  return instant.end_of_day ? formatDay(instant.local.slice(0, 10))
    : formatDateTime(instant.at, timeZone);
}

export function formatClosing(instant, timeZone) {
  return instant.end_of_day ? formatDay(instant.end_of_day)
    : formatDateTime(instant.at, timeZone);
}

export function assessmentName(code) {
  const infusion = /^INF(\d+)_D(\d+)$/.exec(code);
  if (infusion) return t("a.infusion", { n: infusion[1], day: infusion[2] });
  const key = `a.${code}`;
  return STRINGS[current][key] ? t(key) : code;
}
