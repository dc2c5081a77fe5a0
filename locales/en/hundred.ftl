# hundred: the words readers see, in English (the reference every other language follows).
#
# One message per line: `key = text`. Keep every key, translate the text. `{ $name }` is a
# value the code fills in; keep it (you may move it). Keys ending in `-html` may contain
# <strong>…</strong>, nothing else. The test `cargo test --lib i18n` checks that every
# language has exactly the keys English has, and that each one formats.
#
# Variables: $list  the newsletter's name        $email  the reader's address
#            $name  the reader's name            $url    a link
#            $days, $day  numbers                $month  a month's name, $year a year

## Dates, as readers see them ("2 December 2026")

date = { $day } { $month } { $year }
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## The signup page

consent-default = Yes, send me the newsletter by email. I can unsubscribe at any time with the link in every message.
subscribe-title = Subscribe to { $list }
subscribe-intro = Leave your address and we'll send you a message to confirm it's really you.
subscribe-email = Email address
subscribe-name = Name
subscribe-optional = (optional)
subscribe-honeypot = Leave this field empty
subscribe-button = Subscribe

## Answers to a signup

thanks-title = Almost there
thanks-message = Thanks! Check your inbox for a message from us and confirm your subscription with the button inside. If it hasn't arrived in a few minutes, look in your spam folder.
signup-unreadable = The form could not be read. Please fill it in again.
signup-refused = This signup could not be accepted.
signup-again = Please check the form and press the button again.
signup-too-quick = That was quicker than we expected. Please check the form and press the button again.
signup-too-old = This page was open a long time. Please press the button again.
email-empty = Please enter an email address.
email-too-long = That address is too long.
email-missing-at = An email address needs one @ between a name and a domain, like name@example.com.
email-bad-local-part = The part before the @ isn't valid.
email-bad-domain = The part after the @ doesn't look like a complete domain, such as example.com.
email-whitespace = Email addresses can't contain spaces or control characters.
name-too-long = That name is too long (at most 100 characters).
name-control-characters = Names can't contain line breaks or control characters.

## The signup form for the owner's website (shown by its script)

snippet-sending = Sending…
snippet-not-sent = The signup could not be sent. Please try again in a moment.

## Errors on any public page

error-check-title = Please check that again
error-too-many-title = Too many attempts
error-too-many-message = There were too many signups from your network just now. Please wait a few minutes and try again.
error-unexpected-title = Something went wrong
error-unexpected-message = Something went wrong on our side. Please try again in a moment.

## Confirming

confirm-title = Confirm your subscription
confirm-intro = One more step: press the button to start receiving { $list }.
confirm-button = Yes, subscribe me
confirm-ignore = If you didn't ask for this, ignore it: without your confirmation you won't hear from us.
confirmed-title = You're subscribed
confirmed-thanks = Thanks for confirming. A welcome message is on its way to your inbox.
confirmed-unsubscribe = Every message has a link to unsubscribe in one click.

## A link that no longer works

link-invalid-title = Link not valid
link-expired = This link has expired.
link-invalid = This link isn't valid (any more).
link-invalid-unsubscribe = We couldn't recognise this unsubscribe link; perhaps it was cut short when it was copied. Open the unsubscribe link at the bottom of any of our messages again, or simply reply to one of them and ask us to take you off the list: we will.
link-invalid-keep = We couldn't recognise this link; perhaps it was cut short when it was copied. Open the button in our message again, or simply reply to it and tell us you want to keep receiving { $list }.
link-invalid-confirm = Links to confirm a subscription work for a week. You can simply sign up again and we'll send you a fresh one.
link-invalid-sign-up = Sign up again

## Keeping a subscription (the answer to "Do you still want it?")

keep-title = Keep receiving it
keep-heading = Keep receiving { $list }?
keep-sending-html = We'll keep sending it to <strong>{ $email }</strong>.
keep-button = Yes, keep sending it
kept-title = Thank you
kept-message = We'll keep sending { $list } to { $email }.
not-subscribed-title = You're not on the list
not-subscribed-message = { $email } no longer receives { $list }. To get it again, sign up at { $url }.

## Unsubscribing

unsubscribe-title = Unsubscribe
unsubscribe-question-html = Stop sending { $list } to <strong>{ $email }</strong>?
unsubscribe-button = Unsubscribe
unsubscribe-already-title = You're already unsubscribed
unsubscribe-already-html = <strong>{ $email }</strong> doesn't receive { $list } any more.
unsubscribed-title = Unsubscribed
unsubscribed-heading = You're unsubscribed
unsubscribed-done-html = <strong>{ $email }</strong> won't receive { $list } any more. It took effect right away.
unsubscribed-again = Changed your mind? You can subscribe again; we'll ask you to confirm by email first.
unsubscribed-button = Subscribe again

## Every message

mail-hello = Hello,
mail-hello-name = Hello { $name },
mail-open-link = Or open this link:
footer-why = You receive { $list } because you subscribed as { $email }.
footer-unsubscribe = Unsubscribe in one click
footer-unsubscribe-label = Unsubscribe in one click:
footer-reply = Or simply reply: a person reads every answer.
footer-confirmation = You get this because someone asked to subscribe { $email } to { $list }.
footer-not-me = Not you? Don't write to me again
footer-not-me-label = Not you? Don't write to me again:
header-web-version = View in your browser
header-web-version-label = View in your browser:
footer-subscription-why = See what we hold about you, pause or change your details:
footer-subscription = Your subscription
footer-subscription-label = Your subscription (what we hold, pause, change):

## The confirmation message

confirmation-subject = Please confirm your subscription to { $list }
confirmation-ask-html = Please confirm that you want to receive { $list } at <strong>{ $email }</strong>.
confirmation-ask = Please confirm that you want to receive { $list } at { $email }:
confirmation-button = Confirm my subscription
confirmation-valid = The link works for { $days ->
    [one] one day
   *[other] { $days } days
}.
confirmation-consent = What you agreed to: “{ $consent }”
confirmation-ignore = If you didn't ask for this, ignore this message: without your confirmation you won't hear from us again.

## The welcome message

welcome-subject = Welcome to { $list }
welcome-subscribed = You're subscribed to { $list }. Thank you for wanting to hear from us.
welcome-reply = You can simply reply to any of our messages: a person reads every reply.

## The re-permission message ("Do you still want it?")

repermission-subject = Do you still want { $list }?
repermission-ask = We haven't heard from you in a while, and we only want to write to people who want to hear from us. Do you still want { $list }?
repermission-keep-label = Yes, keep sending it:
repermission-deadline = If we don't hear from you by { $date }, we may stop writing to you. No hard feelings, and you can always sign up again.

## The test message (to the owner, from the settings page)

test-message-subject = Test message from { $list }
test-message-intro = This is a test message from hundred, the newsletter engine behind { $list }.
test-message-why = It was sent from the Settings page ({ $url }) to check that the mail { $smtp ->
    [yes] server
   *[other] settings
} works. If you are reading it, mail from your list gets through.
test-message-nothing = Nothing needs doing; you can delete this message.

## The public archive (/archive)

archive-title = { $list }: past issues
archive-heading = Past issues
archive-empty = Nothing here yet: issues appear here once they have gone out.
archive-page = Page { $page } of { $pages }
archive-pages-label = More issues
archive-newer = Newer issues
archive-older = Older issues
archive-subscribe = Get the next issues by email
archive-feed = Follow by feed (Atom)
archive-back = All past issues
archive-signup-heading = Get { $list } by email
archive-not-found-title = Not in the archive
archive-not-found = There is no such issue in the archive: the address may be mistyped, or the issue was taken out.
archive-see-all = See all past issues

## The reader's own page (/me/…), linked as "Your subscription" from every campaign

me-title = Your subscription to { $list }
me-held = What we hold about you
me-address = Address
me-name = Name
me-no-name = You gave no name.
me-status = Status
me-status-confirmed = Subscribed: you receive every issue.
me-status-pending = Not confirmed yet: you receive nothing until you confirm.
me-status-unsubscribed = Unsubscribed on { $date }: you receive nothing more.
me-status-paused = Paused until { $date }: no issues until then.
me-status-other = Not receiving issues.
me-agreed = How you agreed
me-agreed-line = You signed up on { $date } { $how }.
me-confirmed-line = You confirmed on { $date }.
me-stated = Added by the list's owner, who noted: { $how }
me-consent-text = The words you were shown:
me-how-hosted_form = on the signup page
me-how-website_form = with the form on the list's website
me-how-json = through the list's website
me-how-api = through the list's software
me-how-import = (the owner imported your address)
me-how-admin = (the owner added your address)
me-how-archive = from the archive of past issues
me-how-other = ({ $source })
me-sent = Sent to you lately
me-sent-none = Nothing yet.
me-sent-line = { $subject }, { $date }
me-change-name = Change your name
me-name-label = Your name (leave it empty for none)
me-name-button = Save the name
me-name-saved = Your name is saved.
me-pause = Take a break
me-pause-why = No issues until the date; then they come again, without asking. The break does not count against you.
me-pause-30 = Pause for 30 days
me-pause-90 = Pause for 90 days
me-paused = Paused until { $date }.
me-download = Download what we hold
me-download-why = Everything we hold about you, as one file (JSON).
me-download-button = Download my data
me-leave = Leave
me-unsubscribe-button = Unsubscribe
me-unsubscribed = You are unsubscribed: you receive nothing more.
me-erase-button = Erase me entirely…
me-erase-title = Erase yourself from { $list }?
me-erase-what = Your address, your name, your consent history and what you wrote to us go, for good; what was counted stays, without you. This page stops working, and nothing can bring your data back.
me-erase-confirm = Yes, erase me
me-erase-cancel = No, take me back
me-erased-title = You are erased
me-erased = Everything { $list } held about you is gone. If you sign up again one day, you start afresh.
me-link-invalid = We couldn't recognise this link: perhaps it was cut short when it was copied, or the subscription it belonged to was erased. The “Your subscription” link at the bottom of any of our recent messages leads here again.
me-name-refused = The name was not saved.
me-not-subscribed = You are not subscribed, so there is nothing to pause or leave.
me-pause-length = A pause lasts 30 or 90 days.
