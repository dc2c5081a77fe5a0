# hundred: lo que ven los lectores, en español (trato de usted).
# Modelo e instrucciones: locales/en/hundred.ftl.

## Las fechas ("2 de diciembre de 2026")

date = { $day } de { $month } de { $year }
month-1 = enero
month-2 = febrero
month-3 = marzo
month-4 = abril
month-5 = mayo
month-6 = junio
month-7 = julio
month-8 = agosto
month-9 = septiembre
month-10 = octubre
month-11 = noviembre
month-12 = diciembre

## La página de suscripción

consent-default = Sí, quiero recibir el boletín por correo electrónico. Puedo darme de baja en cualquier momento con el enlace que incluye cada mensaje.
subscribe-title = Suscribirse a { $list }
subscribe-intro = Déjenos su dirección y le enviaremos un mensaje para confirmar que es usted.
subscribe-email = Correo electrónico
subscribe-name = Nombre
subscribe-optional = (opcional)
subscribe-honeypot = Deje este campo vacío
subscribe-button = Suscribirme

## Las respuestas a una suscripción

thanks-title = Ya casi está
thanks-message = ¡Gracias! Busque en su bandeja de entrada un mensaje nuestro y confirme su suscripción con el botón que contiene. Si no ha llegado en unos minutos, revise su carpeta de correo no deseado.
signup-unreadable = No se ha podido leer el formulario. Rellénelo de nuevo, por favor.
signup-refused = No se ha podido aceptar esta suscripción.
signup-again = Revise el formulario y vuelva a pulsar el botón, por favor.
signup-too-quick = Ha ido más rápido de lo esperado. Revise el formulario y vuelva a pulsar el botón, por favor.
signup-too-old = Esta página ha estado abierta mucho tiempo. Vuelva a pulsar el botón, por favor.
email-empty = Introduzca una dirección de correo electrónico, por favor.
email-too-long = Esa dirección es demasiado larga.
email-missing-at = Una dirección de correo necesita una @ entre un nombre y un dominio, como nombre@example.com.
email-bad-local-part = La parte anterior a la @ no es válida.
email-bad-domain = La parte posterior a la @ no parece un dominio completo, como example.com.
email-whitespace = Las direcciones de correo no pueden contener espacios ni caracteres de control.
name-too-long = Ese nombre es demasiado largo (100 caracteres como máximo).
name-control-characters = Los nombres no pueden contener saltos de línea ni caracteres de control.

## El formulario de suscripción para el sitio web (lo muestra su script)

snippet-sending = Enviando…
snippet-not-sent = No se ha podido enviar la suscripción. Vuelva a intentarlo en un momento.

## Los errores en una página pública

error-check-title = Revise los datos, por favor
error-too-many-title = Demasiados intentos
error-too-many-message = Acaban de llegar demasiadas suscripciones desde su red. Espere unos minutos y vuelva a intentarlo.
error-unexpected-title = Algo ha salido mal
error-unexpected-message = Algo ha salido mal por nuestra parte. Vuelva a intentarlo en un momento.

## La confirmación

confirm-title = Confirme su suscripción
confirm-intro = Solo falta un paso: pulse el botón para empezar a recibir { $list }.
confirm-button = Sí, suscribirme
confirm-ignore = Si no lo ha solicitado, ignore esta página: sin su confirmación no recibirá nada de nosotros.
confirmed-title = Su suscripción está confirmada
confirmed-thanks = Gracias por confirmar. Un mensaje de bienvenida va de camino a su bandeja de entrada.
confirmed-unsubscribe = Cada mensaje incluye un enlace para darse de baja con un solo clic.

## Un enlace que ya no funciona

link-invalid-title = Enlace no válido
link-expired = Este enlace ha caducado.
link-invalid = Este enlace no es válido (o ya no lo es).
link-invalid-unsubscribe = No hemos reconocido este enlace para darse de baja; quizá se cortó al copiarlo. Vuelva a abrir el enlace para darse de baja que aparece al final de cualquiera de nuestros mensajes, o simplemente responda a uno de ellos y pídanos que le quitemos de la lista: lo haremos.
link-invalid-keep = No hemos reconocido este enlace; quizá se cortó al copiarlo. Vuelva a pulsar el botón de nuestro mensaje, o simplemente respóndalo y díganos que quiere seguir recibiendo { $list }.
link-invalid-confirm = Los enlaces para confirmar una suscripción son válidos durante una semana. Simplemente vuelva a suscribirse y le enviaremos uno nuevo.
link-invalid-sign-up = Volver a suscribirse

## Seguir recibiéndolo (la respuesta a «¿Sigue queriendo recibirlo?»)

keep-title = Seguir recibiéndolo
keep-heading = ¿Quiere seguir recibiendo { $list }?
keep-sending-html = Seguiremos enviándolo a <strong>{ $email }</strong>.
keep-button = Sí, quiero seguir recibiéndolo
kept-title = Gracias
kept-message = Seguiremos enviando { $list } a { $email }.
not-subscribed-title = No está en la lista
not-subscribed-message = { $email } ya no recibe { $list }. Para volver a recibirlo, suscríbase en { $url }.

## Darse de baja

unsubscribe-title = Darse de baja
unsubscribe-question-html = ¿Dejar de enviar { $list } a <strong>{ $email }</strong>?
unsubscribe-button = Darme de baja
unsubscribe-already-title = Ya se ha dado de baja
unsubscribe-already-html = <strong>{ $email }</strong> ya no recibe { $list }.
unsubscribed-title = Baja confirmada
unsubscribed-heading = Se ha dado de baja
unsubscribed-done-html = <strong>{ $email }</strong> ya no recibirá { $list }. La baja es efectiva de inmediato.
unsubscribed-again = ¿Ha cambiado de opinión? Puede volver a suscribirse; antes le pediremos que lo confirme por correo electrónico.
unsubscribed-button = Volver a suscribirme

## Todos los mensajes

mail-hello = Hola:
mail-hello-name = Hola, { $name }:
mail-open-link = O abra este enlace:
footer-why = Recibe { $list } porque se suscribió con la dirección { $email }.
footer-unsubscribe = Darse de baja con un clic
footer-unsubscribe-label = Darse de baja con un clic:
footer-reply = O simplemente responda: una persona lee cada respuesta.
footer-confirmation = Recibe este mensaje porque alguien pidió suscribir { $email } a { $list }.
footer-not-me = ¿No fue usted? No me escriban más
footer-not-me-label = ¿No fue usted? No me escriban más:
header-web-version = Ver en el navegador
header-web-version-label = Ver en el navegador:
footer-subscription-why = Vea lo que guardamos sobre usted, haga una pausa o cambie sus datos:
footer-subscription = Su suscripción
footer-subscription-label = Su suscripción (sus datos, pausa, cambios):

## El mensaje de confirmación

confirmation-subject = Confirme su suscripción a { $list }
confirmation-ask-html = Confirme que desea recibir { $list } en <strong>{ $email }</strong>.
confirmation-ask = Confirme que desea recibir { $list } en { $email }:
confirmation-button = Confirmar mi suscripción
confirmation-valid = El enlace es válido durante { $days ->
    [one] un día
   *[other] { $days } días
}.
confirmation-consent = Lo que ha aceptado: «{ $consent }»
confirmation-ignore = Si no lo ha solicitado, ignore este mensaje: sin su confirmación no volverá a saber de nosotros.

## El mensaje de bienvenida

welcome-subject = Le damos la bienvenida a { $list }
welcome-subscribed = Su suscripción a { $list } está confirmada. Gracias por querer saber de nosotros.
welcome-reply = Puede responder a cualquiera de nuestros mensajes: una persona lee cada respuesta.

## La nueva petición de permiso («¿Sigue queriendo recibirlo?»)

repermission-subject = ¿Sigue queriendo recibir { $list }?
repermission-ask = Hace tiempo que no sabemos de usted, y solo queremos escribir a quienes desean saber de nosotros. ¿Sigue queriendo recibir { $list }?
repermission-keep-label = Sí, quiero seguir recibiéndolo:
repermission-deadline = Si no sabemos de usted antes del { $date }, es posible que dejemos de escribirle. Sin rencores: siempre puede volver a suscribirse.

## El mensaje de prueba (al propietario, desde la página de ajustes)

test-message-subject = Mensaje de prueba de { $list }
test-message-intro = Este es un mensaje de prueba de hundred, el programa de boletines detrás de { $list }.
test-message-why = Se envió desde la página «Settings» ({ $url }) para comprobar { $smtp ->
    [yes] el servidor de correo
   *[other] la configuración de correo
}. Si está leyendo esto, el correo de su lista llega a su destino.
test-message-nothing = No hace falta hacer nada; puede borrar este mensaje.

## The public archive (/archive)

archive-title = { $list }: números anteriores
archive-heading = Números anteriores
archive-empty = Aún no hay nada: los números aparecen aquí una vez enviados.
archive-page = Página { $page } de { $pages }
archive-pages-label = Más números
archive-newer = Números más recientes
archive-older = Números más antiguos
archive-subscribe = Recibir los próximos números por correo
archive-feed = Seguir por feed (Atom)
archive-back = Todos los números anteriores
archive-signup-heading = Recibir { $list } por correo
archive-not-found-title = No está en el archivo
archive-not-found = Este número no está en el archivo: puede que la dirección esté mal escrita o que se haya retirado.
archive-see-all = Ver todos los números anteriores

## La página propia de cada lector (/me/…)

me-title = Su suscripción a { $list }
me-held = Lo que guardamos sobre usted
me-address = Dirección
me-name = Nombre
me-no-name = No dio ningún nombre.
me-status = Estado
me-status-confirmed = Suscrito: recibe cada número.
me-status-pending = Aún sin confirmar: no recibe nada hasta que confirme.
me-status-unsubscribed = Dado de baja el { $date }: ya no recibe nada.
me-status-paused = En pausa hasta el { $date }: ningún número hasta entonces.
me-status-other = No recibe números.
me-agreed = Cómo dio su consentimiento
me-agreed-line = Se suscribió el { $date } { $how }.
me-confirmed-line = Confirmó el { $date }.
me-stated = Añadido por el responsable de la lista, que anotó: { $how }
me-consent-text = El texto que se le mostró:
me-how-hosted_form = en la página de suscripción
me-how-website_form = con el formulario del sitio de la lista
me-how-json = a través del sitio de la lista
me-how-api = a través del programa de la lista
me-how-import = (el responsable importó su dirección)
me-how-admin = (el responsable añadió su dirección)
me-how-archive = desde el archivo de números anteriores
me-how-other = ({ $source })
me-sent = Enviado recientemente
me-sent-none = Nada todavía.
me-sent-line = { $subject }, { $date }
me-change-name = Cambiar su nombre
me-name-label = Su nombre (déjelo vacío para ninguno)
me-name-button = Guardar el nombre
me-name-saved = Su nombre está guardado.
me-pause = Tomarse un descanso
me-pause-why = Ningún número hasta la fecha; después vuelven, sin preguntar. La pausa no cuenta en su contra.
me-pause-30 = Pausar 30 días
me-pause-90 = Pausar 90 días
me-paused = En pausa hasta el { $date }.
me-download = Descargar sus datos
me-download-why = Todo lo que guardamos sobre usted, en un archivo (JSON).
me-download-button = Descargar mis datos
me-leave = Irse
me-unsubscribe-button = Darme de baja
me-unsubscribed = Está dado de baja: ya no recibe nada.
me-erase-button = Borrarme por completo…
me-erase-title = ¿Borrarse de { $list }?
me-erase-what = Su dirección, su nombre, su historial de consentimiento y lo que nos escribió desaparecen para siempre; lo contado queda, sin usted. Esta página deja de funcionar y nada puede recuperar sus datos.
me-erase-confirm = Sí, borrarme
me-erase-cancel = No, volver
me-erased-title = Está borrado
me-erased = Todo lo que { $list } guardaba sobre usted ha desaparecido. Si algún día se suscribe de nuevo, empieza de cero.
me-link-invalid = No reconocimos este enlace: quizá se cortó al copiarlo, o la suscripción a la que pertenecía fue borrada. El enlace «Su suscripción» al pie de nuestros últimos mensajes lleva aquí de nuevo.
me-name-refused = El nombre no se guardó.
me-not-subscribed = No está suscrito: no hay nada que pausar ni dejar.
me-pause-length = Una pausa dura 30 o 90 días.
