;;;; websocket-driver's server API over c10k's WebSockets:
;;;;   (let ((ws (make-server env)))
;;;;     (on :message ws (lambda (message) (send ws message)))
;;;;     (lambda (responder) (declare (ignore responder)) (start-connection ws)))
;;;; START-CONNECTION accepts the upgrade on the loop thread, while the
;;;; request is being handled (RUN calls a delayed response's function
;;;; there, without deferring the request, when the application made a
;;;; server for it).

(in-package #:clack.handler.c10k.websocket)

(defvar *made* nil
  "A cons whose car receives the WebSocket MAKE-SERVER makes for the
request being handled; bound by the handler around the application.")

(defstruct (ws (:constructor %make-ws (request options)) (:predicate websocket-p))
  request
  options
  (handlers (make-hash-table))
  (socket nil)
  (state :connecting))

(defun make-server (env &key max-length accept-protocols additional-headers)
  "A WebSocket for the upgrade request of ENV, not yet accepted. MAX-LENGTH
limits a message's size; ACCEPT-PROTOCOLS lists the subprotocols the
application speaks (the first the client offers among them is chosen);
ADDITIONAL-HEADERS, a plist, go into the 101."
  (let ((ws (%make-ws (getf env :c10k.request)
                      (list :max-length max-length :accept-protocols accept-protocols
                            :additional-headers additional-headers))))
    (when *made* (setf (car *made*) ws))
    ws))

(defun on (event ws handler)
  "Calls HANDLER on EVENT: :OPEN (), :MESSAGE (message), :CLOSE (&key code
reason), :ERROR (condition), :PING (octets), :PONG (octets)."
  (setf (gethash event (ws-handlers ws)) handler))

(defun emit (ws event &rest arguments)
  (alexandria:when-let ((handler (gethash event (ws-handlers ws))))
    (apply handler arguments)))

(defun start-connection (ws)
  "Accepts the upgrade. Call it while the request is handled (in the
application or the function of its delayed response)."
  (destructuring-bind (&key max-length accept-protocols additional-headers) (ws-options ws)
    (let* ((request (ws-request ws))
           (offered (c10k:websocket-subprotocols request))
           (protocol (find-if (lambda (p) (member p accept-protocols :test #'string=)) offered))
           (socket (c10k:accept-websocket
                    request
                    :subprotocol protocol
                    :headers (clack.handler.c10k::header-alist additional-headers)
                    :max-message-bytes max-length
                    :on-open (lambda (socket)
                               (declare (ignore socket))
                               (setf (ws-state ws) :open)
                               (emit ws :open))
                    :on-message (lambda (socket message)
                                  (declare (ignore socket))
                                  (emit ws :message message))
                    :on-ping (lambda (socket data) (declare (ignore socket)) (emit ws :ping data))
                    :on-pong (lambda (socket data) (declare (ignore socket)) (emit ws :pong data))
                    :on-close (lambda (socket code reason)
                                (declare (ignore socket))
                                (setf (ws-state ws) :closed)
                                (emit ws :close :code code :reason reason)))))
      (if socket
          (setf (ws-socket ws) socket)
          (progn (setf (ws-state ws) :closed)
                 (emit ws :error (make-condition 'simple-error
                                                 :format-control "bad WebSocket handshake")))))
    ws))

(defun call-when-open (ws function)
  (let ((socket (ws-socket ws)))
    (when (and socket (c10k:websocket-open-p socket))
      (funcall function socket))))

(defun send (ws data &key start end type callback)
  "Sends DATA: a string as text, octets as binary (TYPE :TEXT or :BINARY
overrides), from START to END. Any thread. CALLBACK, if given, is called
once the message is queued."
  (let* ((data (if (or start end) (subseq data (or start 0) end) data))
         (data (case type
                 (:text (if (stringp data) data (babel:octets-to-string data :encoding :utf-8)))
                 (:binary (if (stringp data) (babel:string-to-octets data :encoding :utf-8) data))
                 (t data))))
    (prog1 (call-when-open ws (lambda (socket) (c10k:ws-send socket data)))
      (when callback (funcall callback)))))

(defun send-text (ws message &key start end callback)
  (send ws message :start start :end end :type :text :callback callback))

(defun send-binary (ws message &key start end callback)
  (send ws message :start start :end end :type :binary :callback callback))

(defun send-ping (ws &optional (data "") callback)
  (prog1 (call-when-open ws (lambda (socket) (c10k:ws-ping socket data)))
    (when callback (funcall callback))))

(defun close-connection (ws &optional reason code)
  "Starts the closing handshake (CODE 1000 by default). Any thread."
  (setf (ws-state ws) (if (eq (ws-state ws) :closed) :closed :closing))
  (call-when-open ws (lambda (socket) (c10k:ws-close socket (or code 1000) (or reason "")))))

(defun ready-state (ws)
  ":CONNECTING, :OPEN, :CLOSING or :CLOSED."
  (ws-state ws))
