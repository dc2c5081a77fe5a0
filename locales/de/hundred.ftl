# hundred: was Leserinnen und Leser sehen, auf Deutsch (Anrede: Sie).
# Vorlage und Hinweise: locales/en/hundred.ftl.

## Datumsangaben ("2. Dezember 2026")

date = { $day }. { $month } { $year }
month-1 = Januar
month-2 = Februar
month-3 = März
month-4 = April
month-5 = Mai
month-6 = Juni
month-7 = Juli
month-8 = August
month-9 = September
month-10 = Oktober
month-11 = November
month-12 = Dezember

## Die Anmeldeseite

consent-default = Ja, ich möchte den Newsletter per E-Mail erhalten. Ich kann ihn jederzeit über den Link in jeder Nachricht abbestellen.
subscribe-title = { $list } abonnieren
subscribe-intro = Hinterlassen Sie Ihre Adresse, und wir schicken Ihnen eine Nachricht, um zu bestätigen, dass Sie es wirklich sind.
subscribe-email = E-Mail-Adresse
subscribe-name = Name
subscribe-optional = (optional)
subscribe-honeypot = Dieses Feld bitte leer lassen
subscribe-button = Abonnieren

## Antworten auf eine Anmeldung

thanks-title = Fast geschafft
thanks-message = Vielen Dank! Sehen Sie in Ihrem Posteingang nach einer Nachricht von uns und bestätigen Sie Ihr Abonnement mit dem Button darin. Falls sie in ein paar Minuten nicht angekommen ist, schauen Sie bitte in Ihrem Spam-Ordner nach.
signup-unreadable = Das Formular konnte nicht gelesen werden. Bitte füllen Sie es noch einmal aus.
signup-refused = Diese Anmeldung konnte nicht angenommen werden.
signup-again = Bitte prüfen Sie das Formular und klicken Sie noch einmal auf den Button.
signup-too-quick = Das ging schneller als erwartet. Bitte prüfen Sie das Formular und klicken Sie noch einmal auf den Button.
signup-too-old = Diese Seite war sehr lange geöffnet. Bitte klicken Sie noch einmal auf den Button.
email-empty = Bitte geben Sie eine E-Mail-Adresse ein.
email-too-long = Diese Adresse ist zu lang.
email-missing-at = Eine E-Mail-Adresse braucht genau ein @ zwischen Name und Domain, etwa name@example.com.
email-bad-local-part = Der Teil vor dem @ ist ungültig.
email-bad-domain = Der Teil nach dem @ sieht nicht nach einer vollständigen Domain wie example.com aus.
email-whitespace = E-Mail-Adressen dürfen keine Leerzeichen oder Steuerzeichen enthalten.
name-too-long = Dieser Name ist zu lang (höchstens 100 Zeichen).
name-control-characters = Namen dürfen keine Zeilenumbrüche oder Steuerzeichen enthalten.

## Das Anmeldeformular für die Website (von seinem Skript angezeigt)

snippet-sending = Wird gesendet…
snippet-not-sent = Die Anmeldung konnte nicht gesendet werden. Bitte versuchen Sie es gleich noch einmal.

## Fehler auf einer öffentlichen Seite

error-check-title = Bitte prüfen Sie Ihre Angaben
error-too-many-title = Zu viele Versuche
error-too-many-message = Aus Ihrem Netzwerk kamen gerade zu viele Anmeldungen. Bitte warten Sie ein paar Minuten und versuchen Sie es dann noch einmal.
error-unexpected-title = Etwas ist schiefgelaufen
error-unexpected-message = Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal.

## Bestätigen

confirm-title = Bestätigen Sie Ihr Abonnement
confirm-intro = Nur noch ein Schritt: Klicken Sie auf den Button, um { $list } zu erhalten.
confirm-button = Ja, jetzt abonnieren
confirm-ignore = Falls Sie das nicht angefordert haben, ignorieren Sie diese Seite einfach: Ohne Ihre Bestätigung hören Sie nichts von uns.
confirmed-title = Ihr Abonnement ist bestätigt
confirmed-thanks = Danke für Ihre Bestätigung. Eine Willkommensnachricht ist auf dem Weg in Ihren Posteingang.
confirmed-unsubscribe = Jede Nachricht enthält einen Link, mit dem Sie sich mit einem Klick abmelden können.

## Ein Link, der nicht mehr funktioniert

link-invalid-title = Link ungültig
link-expired = Dieser Link ist abgelaufen.
link-invalid = Dieser Link ist nicht (mehr) gültig.
link-invalid-unsubscribe = Wir konnten diesen Abmeldelink nicht erkennen; vielleicht wurde er beim Kopieren abgeschnitten. Öffnen Sie den Abmeldelink unten in einer unserer Nachrichten noch einmal, oder antworten Sie einfach auf eine davon und bitten Sie uns, Sie von der Liste zu nehmen: Das machen wir.
link-invalid-keep = Wir konnten diesen Link nicht erkennen; vielleicht wurde er beim Kopieren abgeschnitten. Klicken Sie noch einmal auf den Button in unserer Nachricht, oder antworten Sie einfach darauf und schreiben Sie uns, dass Sie { $list } weiterhin erhalten möchten.
link-invalid-confirm = Links zur Bestätigung eines Abonnements gelten eine Woche lang. Melden Sie sich einfach noch einmal an, dann schicken wir Ihnen einen neuen.
link-invalid-sign-up = Erneut anmelden

## Weiterhin erhalten (die Antwort auf „Möchten Sie ihn noch?“)

keep-title = Weiterhin erhalten
keep-heading = { $list } weiterhin erhalten?
keep-sending-html = Wir schicken den Newsletter weiterhin an <strong>{ $email }</strong>.
keep-button = Ja, weiterhin erhalten
kept-title = Vielen Dank
kept-message = Wir schicken { $list } weiterhin an { $email }.
not-subscribed-title = Sie stehen nicht auf der Liste
not-subscribed-message = { $email } erhält { $list } nicht mehr. Um den Newsletter wieder zu erhalten, melden Sie sich unter { $url } an.

## Abmelden

unsubscribe-title = Abmelden
unsubscribe-question-html = { $list } nicht mehr an <strong>{ $email }</strong> schicken?
unsubscribe-button = Abmelden
unsubscribe-already-title = Sie sind bereits abgemeldet
unsubscribe-already-html = <strong>{ $email }</strong> erhält { $list } nicht mehr.
unsubscribed-title = Abgemeldet
unsubscribed-heading = Sie sind abgemeldet
unsubscribed-done-html = <strong>{ $email }</strong> erhält { $list } nicht mehr. Die Abmeldung gilt ab sofort.
unsubscribed-again = Haben Sie es sich anders überlegt? Sie können sich wieder anmelden; wir bitten Sie vorher per E-Mail um eine Bestätigung.
unsubscribed-button = Wieder anmelden

## Jede Nachricht

mail-hello = Hallo,
mail-hello-name = Hallo { $name },
mail-open-link = Oder öffnen Sie diesen Link:
footer-why = Sie erhalten { $list }, weil Sie sich mit { $email } angemeldet haben.
footer-unsubscribe = Mit einem Klick abmelden
footer-unsubscribe-label = Mit einem Klick abmelden:
footer-reply = Oder antworten Sie einfach: Jede Antwort liest ein Mensch.
footer-confirmation = Sie erhalten diese Nachricht, weil jemand { $email } für { $list } angemeldet hat.
footer-not-me = Nicht Sie? Keine Nachrichten mehr an mich
footer-not-me-label = Nicht Sie? Keine Nachrichten mehr an mich:
header-web-version = Im Browser ansehen
header-web-version-label = Im Browser ansehen:
footer-subscription-why = Sehen, was wir über Sie wissen, pausieren oder Angaben ändern:
footer-subscription = Ihr Abonnement
footer-subscription-label = Ihr Abonnement (Ihre Daten, Pause, Änderungen):

## Die Bestätigungsnachricht

confirmation-subject = Bitte bestätigen Sie Ihr Abonnement von { $list }
confirmation-ask-html = Bitte bestätigen Sie, dass Sie { $list } an <strong>{ $email }</strong> erhalten möchten.
confirmation-ask = Bitte bestätigen Sie, dass Sie { $list } an { $email } erhalten möchten:
confirmation-button = Abonnement bestätigen
confirmation-valid = Der Link ist { $days ->
    [one] einen Tag
   *[other] { $days } Tage
} lang gültig.
confirmation-consent = Dem haben Sie zugestimmt: „{ $consent }“
confirmation-ignore = Falls Sie das nicht angefordert haben, ignorieren Sie diese Nachricht einfach: Ohne Ihre Bestätigung hören Sie nichts mehr von uns.

## Die Willkommensnachricht

welcome-subject = Willkommen bei { $list }
welcome-subscribed = Sie haben { $list } abonniert. Danke, dass Sie von uns hören möchten.
welcome-reply = Sie können einfach auf jede unserer Nachrichten antworten: Jede Antwort liest ein Mensch.

## Die Nachfrage („Möchten Sie ihn noch?“)

repermission-subject = Möchten Sie { $list } weiterhin erhalten?
repermission-ask = Wir haben eine Weile nichts von Ihnen gehört, und wir möchten nur Menschen schreiben, die von uns hören wollen. Möchten Sie { $list } weiterhin erhalten?
repermission-keep-label = Ja, weiterhin erhalten:
repermission-deadline = Wenn wir bis zum { $date } nichts von Ihnen hören, schreiben wir Ihnen möglicherweise nicht mehr. Das nehmen wir Ihnen nicht übel, und Sie können sich jederzeit wieder anmelden.

## Die Testnachricht (an die Betreiberin, von der Einstellungsseite)

test-message-subject = Testnachricht von { $list }
test-message-intro = Dies ist eine Testnachricht von hundred, der Newsletter-Software hinter { $list }.
test-message-why = Sie wurde von der Seite „Settings“ ({ $url }) gesendet, um { $smtp ->
    [yes] den Mailserver
   *[other] die Mail-Einstellungen
} zu prüfen. Wenn Sie diese Nachricht lesen, kommt die Post Ihrer Liste an.
test-message-nothing = Es ist nichts zu tun; Sie können diese Nachricht löschen.

## The public archive (/archive)

archive-title = { $list }: frühere Ausgaben
archive-heading = Frühere Ausgaben
archive-empty = Noch nichts hier: Ausgaben erscheinen hier, sobald sie verschickt wurden.
archive-page = Seite { $page } von { $pages }
archive-pages-label = Weitere Ausgaben
archive-newer = Neuere Ausgaben
archive-older = Ältere Ausgaben
archive-subscribe = Die nächsten Ausgaben per E-Mail erhalten
archive-feed = Per Feed folgen (Atom)
archive-back = Alle früheren Ausgaben
archive-signup-heading = { $list } per E-Mail erhalten
archive-not-found-title = Nicht im Archiv
archive-not-found = Diese Ausgabe gibt es im Archiv nicht: Vielleicht ist die Adresse vertippt, oder die Ausgabe wurde herausgenommen.
archive-see-all = Alle früheren Ausgaben ansehen

## Die eigene Seite der Leserin und des Lesers (/me/…)

me-title = Ihr Abonnement von { $list }
me-held = Was wir über Sie gespeichert haben
me-address = Adresse
me-name = Name
me-no-name = Sie haben keinen Namen angegeben.
me-status = Stand
me-status-confirmed = Abonniert: Sie erhalten jede Ausgabe.
me-status-pending = Noch nicht bestätigt: Sie erhalten nichts, bis Sie bestätigen.
me-status-unsubscribed = Abgemeldet am { $date }: Sie erhalten nichts mehr.
me-status-paused = Pausiert bis { $date }: bis dahin keine Ausgaben.
me-status-other = Sie erhalten keine Ausgaben.
me-agreed = Wie Sie zugestimmt haben
me-agreed-line = Sie haben sich am { $date } angemeldet { $how }.
me-confirmed-line = Sie haben am { $date } bestätigt.
me-stated = Vom Betreiber der Liste eingetragen, mit der Notiz: { $how }
me-consent-text = Der Text, den Sie gesehen haben:
me-how-hosted_form = auf der Anmeldeseite
me-how-website_form = mit dem Formular auf der Website der Liste
me-how-json = über die Website der Liste
me-how-api = über die Software der Liste
me-how-import = (der Betreiber hat Ihre Adresse importiert)
me-how-admin = (der Betreiber hat Ihre Adresse eingetragen)
me-how-archive = aus dem Archiv früherer Ausgaben
me-how-other = ({ $source })
me-sent = Zuletzt an Sie geschickt
me-sent-none = Noch nichts.
me-sent-line = { $subject }, { $date }
me-change-name = Namen ändern
me-name-label = Ihr Name (leer lassen für keinen)
me-name-button = Namen speichern
me-name-saved = Ihr Name ist gespeichert.
me-pause = Eine Pause machen
me-pause-why = Bis zum Datum keine Ausgaben; danach kommen sie wieder, ohne Nachfrage. Die Pause zählt nicht gegen Sie.
me-pause-30 = 30 Tage pausieren
me-pause-90 = 90 Tage pausieren
me-paused = Pausiert bis { $date }.
me-download = Ihre Daten herunterladen
me-download-why = Alles, was wir über Sie gespeichert haben, in einer Datei (JSON).
me-download-button = Meine Daten herunterladen
me-leave = Gehen
me-unsubscribe-button = Abmelden
me-unsubscribed = Sie sind abgemeldet: Sie erhalten nichts mehr.
me-erase-button = Mich ganz löschen…
me-erase-title = Sich aus { $list } löschen?
me-erase-what = Ihre Adresse, Ihr Name, Ihre Einwilligungen und was Sie uns geschrieben haben, verschwinden endgültig; was gezählt wurde, bleibt, ohne Sie. Diese Seite funktioniert danach nicht mehr, und nichts bringt Ihre Daten zurück.
me-erase-confirm = Ja, mich löschen
me-erase-cancel = Nein, zurück
me-erased-title = Sie sind gelöscht
me-erased = Alles, was { $list } über Sie gespeichert hatte, ist fort. Melden Sie sich eines Tages wieder an, beginnen Sie neu.
me-link-invalid = Wir konnten diesen Link nicht erkennen: Vielleicht wurde er beim Kopieren gekürzt, oder das Abonnement, zu dem er gehörte, wurde gelöscht. Der Link „Ihr Abonnement“ unten in unseren letzten Nachrichten führt wieder hierher.
me-name-refused = Der Name wurde nicht gespeichert.
me-not-subscribed = Sie sind nicht abonniert: Es gibt nichts zu pausieren oder zu beenden.
me-pause-length = Eine Pause dauert 30 oder 90 Tage.
