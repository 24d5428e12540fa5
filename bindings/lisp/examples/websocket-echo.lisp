;;;; A WebSocket echo server, as examples-c/websocket_echo.c:
;;;;   sbcl --script bindings/lisp/examples/websocket-echo.lisp [ADDR [LOOPS]]
;;;; Every message (text or binary) on any path is sent back; a plain HTTP
;;;; request gets 426. The library does the protocol (handshake, framing,
;;;; pings, close). Prints "listening on ADDR" when ready; SIGINT or SIGTERM
;;;; stop it.

(load (merge-pathnames "script.lisp" *load-truename*))
(load-systems "c10k")

(defun echo (websocket message)
  "Sends MESSAGE back: a string as text, octets as binary."
  (c10k:ws-send websocket message))

(defun handle (request)
  "Accepts every WebSocket request; others are told to upgrade."
  (if (c10k:websocket-request-p request)
      (progn (c10k:accept-websocket request :on-message 'echo) nil)
      (values 426 '(("content-type" . "text/plain") ("upgrade" . "websocket"))
              "This server speaks WebSocket only.")))

(let ((arguments (rest sb-ext:*posix-argv*)))
  (serve-example "websocket-echo" arguments
                 (lambda (host port on-ready)
                   (c10k:serve :host host :port port :handler 'handle
                               :loops (and (second arguments) (parse-integer (second arguments)))
                               :stop-signals '(:int :term) :on-ready on-ready))))
