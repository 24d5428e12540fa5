;;;; WebSockets: an HTTP handler accepts an upgrade request, and from then on
;;;; the library parses frames, answers pings and checks UTF-8; Lisp sees
;;;; whole messages (c10k_ws_*). Callbacks run on the loop thread, sends
;;;; work from any thread.

(in-package #:c10k)

(defstruct (websocket (:constructor make-websocket (handle server on-open on-message
                                                    on-ping on-pong on-drain on-close)))
  "An accepted WebSocket. Its callbacks run on its loop's thread; WS-SEND,
WS-PING, WS-CLOSE and WS-BROADCAST work from any thread."
  (handle 0 :type (unsigned-byte 64) :read-only t)
  (server nil :read-only t)
  on-open on-message on-ping on-pong on-drain on-close
  (state :open :type (member :open :closing :closed))
  (%peer nil)
  (data nil))

(setf (documentation 'websocket-data 'function)
      "A place for the application's own state about the WebSocket.")

(defun websocket-request-p (request)
  "True if REQUEST asks to become a WebSocket (Upgrade: websocket)."
  (c10k-ws-is-upgrade (live-pointer request)))

(defun websocket-subprotocols (request)
  "The subprotocols the client offers (Sec-WebSocket-Protocol), in its
order of preference."
  (cffi:with-foreign-objects ((data :pointer) (length :size))
    (loop for i from 0
          while (zerop (c10k-ws-subprotocol (live-pointer request) i data length))
          collect (view-string (cffi:mem-ref data :pointer) (cffi:mem-ref length :size)))))

(defun call-with-ws-options (function &key subprotocol headers max-message-bytes
                                          max-frame-bytes ping-interval-ms ping-timeout-ms
                                          close-timeout-ms)
  "Calls FUNCTION with a c10k_ws_options holding these settings."
  (cffi:with-foreign-object (options '(:struct c10k-ws-options))
    (c10k-ws-options-init options (cffi:foreign-type-size '(:struct c10k-ws-options)))
    (macrolet ((set-when (variable slot)
                 `(when ,variable
                    (setf (cffi:foreign-slot-value options '(:struct c10k-ws-options) ',slot)
                          ,variable))))
      (set-when max-message-bytes max-message-bytes)
      (set-when max-frame-bytes max-frame-bytes)
      (set-when ping-interval-ms ping-interval-ms)
      (set-when ping-timeout-ms ping-timeout-ms)
      (set-when close-timeout-ms close-timeout-ms))
    (with-header-array (array count) headers
      (with-octets (protocol length) (body-octets subprotocol)
        (cffi:with-foreign-slots ((subprotocol-len header-count) options (:struct c10k-ws-options))
          (setf (cffi:foreign-slot-value options '(:struct c10k-ws-options) 'subprotocol)
                (if subprotocol protocol (cffi:null-pointer))
                subprotocol-len length
                (cffi:foreign-slot-value options '(:struct c10k-ws-options) 'headers) array
                header-count count))
        (funcall function options)))))

(defun accept-websocket (request &rest options
                         &key on-open on-message on-ping on-pong on-drain on-close
                           subprotocol headers max-message-bytes max-frame-bytes
                           ping-interval-ms ping-timeout-ms close-timeout-ms)
  "Accepts REQUEST as a WebSocket (101 Switching Protocols, computed by the
library) and returns the WEBSOCKET; the handler's values are then ignored.
Call it in the handler, on the loop thread. Returns NIL when the client's
handshake is wrong: the library has answered it (400, or 426).

The functions, each called on the loop thread with the WEBSOCKET first
(given as symbols, they are looked up at each call):
  ON-OPEN (ws)                 the 101 is queued: it may send;
  ON-MESSAGE (ws message)      a whole message: a string for text (checked
                               UTF-8), an octet vector for binary;
  ON-PING, ON-PONG (ws octets) a ping (already answered) or a pong;
  ON-DRAIN (ws)                the queue drained after WS-SEND said :FULL;
  ON-CLOSE (ws code reason)    last; the close code (1005: none given,
                               1006: no close frame) and reason string.
SUBPROTOCOL is the one to answer with (one of WEBSOCKET-SUBPROTOCOLS);
HEADERS extra 101 headers; the rest are the library's limits and timers
(c10k_ws_options)."
  (declare (ignore subprotocol headers max-message-bytes max-frame-bytes ping-interval-ms
                   ping-timeout-ms close-timeout-ms))
  (let ((server *server*)
        (pointer (live-pointer request)))
    (cffi:with-foreign-objects ((callbacks '(:struct c10k-ws-callbacks)) (out :uint64))
      (cffi:with-foreign-slots ((size on-open on-message on-ping on-pong on-drain on-close)
                                callbacks (:struct c10k-ws-callbacks))
        (setf size (cffi:foreign-type-size '(:struct c10k-ws-callbacks))
              on-open (cffi:callback ws-on-open)
              on-message (cffi:callback ws-on-message)
              on-ping (cffi:callback ws-on-ping)
              on-pong (cffi:callback ws-on-pong)
              on-drain (cffi:callback ws-on-drain)
              on-close (cffi:callback ws-on-close)))
      (let ((code (apply #'call-with-ws-options
                         (lambda (opts)
                           (c10k-ws-accept pointer opts callbacks (server-user-data server) out))
                         (alexandria:remove-from-plist options :on-open :on-message :on-ping
                                                       :on-pong :on-drain :on-close))))
        (cond ((= code +eproto+)
               (setf (%request-upgraded request) t)
               nil)
              (t
               (check code "c10k_ws_accept")
               (setf (%request-upgraded request) t)
               (let ((websocket (make-websocket (cffi:mem-ref out :uint64) server
                                                (handler-designator on-open)
                                                (handler-designator on-message)
                                                (handler-designator on-ping)
                                                (handler-designator on-pong)
                                                (handler-designator on-drain)
                                                (handler-designator on-close))))
                 (setf (gethash (websocket-handle websocket) (http-server-websockets server))
                       websocket))))))))

(defun websocket-of (handle)
  "The WEBSOCKET of HANDLE on the server whose callback runs."
  (gethash handle (http-server-websockets *server*)))

(defmacro with-websocket-event ((websocket handle what) &body body)
  "Runs BODY with WEBSOCKET found from HANDLE; a condition from it is
reported with its backtrace and closes the WebSocket with 1011."
  `(let ((,websocket (websocket-of ,handle)))
     (when ,websocket
       (let ((failure (nth-value 1 (call-capturing-backtrace (lambda () ,@body)))))
         (when failure
           (report-text failure "WebSocket ~A handler failed" ,what)
           (ws-close ,websocket 1011 "internal error"))))))

(cffi:defcallback ws-on-open :void ((user-data :pointer) (handle :uint64))
  (with-callback-server (user-data)
    (with-websocket-event (websocket handle "on-open")
      (alexandria:when-let ((f (websocket-on-open websocket)))
        (funcall f websocket)))))

(cffi:defcallback ws-on-message :void ((user-data :pointer) (handle :uint64)
                                       (data :pointer) (length :size) (binary :bool))
  (with-callback-server (user-data)
    (with-websocket-event (websocket handle "on-message")
      (alexandria:when-let ((f (websocket-on-message websocket)))
        (funcall f websocket (if binary (view-octets data length) (view-string data length)))))))

(defmacro define-ws-payload-callback (name accessor what)
  "Defines the callback NAME passing a control frame's payload, as octets,
to the WebSocket's function ACCESSOR."
  `(cffi:defcallback ,name :void ((user-data :pointer) (handle :uint64)
                                  (data :pointer) (length :size))
     (with-callback-server (user-data)
       (with-websocket-event (websocket handle ,what)
         (alexandria:when-let ((f (,accessor websocket)))
           (funcall f websocket (view-octets data length)))))))

(define-ws-payload-callback ws-on-ping websocket-on-ping "on-ping")
(define-ws-payload-callback ws-on-pong websocket-on-pong "on-pong")

(cffi:defcallback ws-on-drain :void ((user-data :pointer) (handle :uint64))
  (with-callback-server (user-data)
    (with-websocket-event (websocket handle "on-drain")
      (alexandria:when-let ((f (websocket-on-drain websocket)))
        (funcall f websocket)))))

(cffi:defcallback ws-on-close :void ((user-data :pointer) (handle :uint64) (code :uint16)
                                     (reason :pointer) (length :size))
  (with-callback-server (user-data)
    (let ((websocket (websocket-of handle)))
      (when websocket
        (setf (websocket-state websocket) :closed)
        (remhash handle (http-server-websockets *server*))
        (alexandria:when-let ((f (websocket-on-close websocket)))
          (let ((failure (nth-value 1 (call-capturing-backtrace
                                       (lambda ()
                                         (funcall f websocket code (view-string reason length)))))))
            (when failure (report-text failure "WebSocket on-close handler failed"))))))))

(defun send-outcome (websocket code operation)
  "T, :FULL, or NIL (closing or closed) after CODE of a send."
  (cond ((zerop code) t)
        ((= code +queue-full+) :full)
        ((= code +eclosed+)
         (when (eq (websocket-state websocket) :open) (setf (websocket-state websocket) :closing))
         nil)
        (t (check code operation))))

(defun ws-send (websocket message)
  "Sends MESSAGE: a string as a text message, an octet vector as a binary
one. Any thread; messages one thread sends arrive in order. Returns T,
:FULL (sent, but the queue is above its high-water mark: wait for
ON-DRAIN before sending more), or NIL once the WebSocket is closing."
  (let ((binary (not (stringp message))))
    (with-octets (data length) (body-octets message)
      (send-outcome websocket
                    (sb-sys:without-interrupts
                      (c10k-ws-send (websocket-handle websocket) data length binary))
                    "c10k_ws_send"))))

(defun ws-ping (websocket &optional (payload ""))
  "Sends a ping (PAYLOAD at most 125 bytes); the pong reaches ON-PONG."
  (with-octets (data length) (body-octets payload)
    (send-outcome websocket
                  (sb-sys:without-interrupts (c10k-ws-ping (websocket-handle websocket) data length))
                  "c10k_ws_ping")))

(defun ws-close (websocket &optional (code 1000) (reason ""))
  "Starts the closing handshake with CODE and REASON (at most 123 bytes of
UTF-8); ON-CLOSE follows. Any thread. NIL if it was closing already."
  (with-octets (data length) (body-octets reason)
    (let ((result (sb-sys:without-interrupts
                    (c10k-ws-close (websocket-handle websocket) code data length))))
      (unless (= result +eclosed+) (check result "c10k_ws_close"))
      (when (eq (websocket-state websocket) :open) (setf (websocket-state websocket) :closing))
      (zerop result))))

(defun ws-broadcast (websockets message)
  "Sends MESSAGE (as WS-SEND) to every WEBSOCKET of the list WEBSOCKETS:
the frame is built once and shared by their queues. Any thread. Returns
how many it was queued for (closing ones are skipped)."
  (let ((count (length websockets)))
    (cffi:with-foreign-objects ((handles :uint64 (max count 1)) (sent :size))
      (loop for websocket in websockets
            for i from 0
            do (setf (cffi:mem-aref handles :uint64 i) (websocket-handle websocket)))
      (with-octets (data length) (body-octets message)
        (check (sb-sys:without-interrupts
                 (c10k-ws-broadcast handles count data length (not (stringp message)) sent))
               "c10k_ws_broadcast"))
      (cffi:mem-ref sent :size))))

(defun ws-pause-read (websocket)
  "Stops reading from WEBSOCKET (TCP slows the peer) until WS-RESUME-READ."
  (check (c10k-ws-pause-read (websocket-handle websocket)) "c10k_ws_pause_read")
  websocket)

(defun ws-resume-read (websocket)
  "Resumes reading after WS-PAUSE-READ."
  (check (c10k-ws-resume-read (websocket-handle websocket)) "c10k_ws_resume_read")
  websocket)

(defun websocket-open-p (websocket)
  "True until WEBSOCKET starts closing."
  (eq (websocket-state websocket) :open))

(defun websocket-peer (websocket)
  "The peer's address, \"127.0.0.1:50000\". Loop thread (a callback)."
  (or (websocket-%peer websocket)
      (setf (websocket-%peer websocket)
            (cffi:with-foreign-pointer-as-string (text +addrstrlen+)
              (check (c10k-ws-peer-addr (websocket-handle websocket) text +addrstrlen+)
                     "c10k_ws_peer_addr")))))
