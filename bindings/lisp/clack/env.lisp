;;;; The Lack environment of a request: the property list an application
;;;; takes, built on the loop thread from a C10K:REQUEST. It is built on
;;;; every request, so it reads the C request's views directly: header
;;;; names found among the usual ones are shared constant strings, and
;;;; strings equal by construction (the target and the path of
;;;; "/path") are made once.

(in-package #:clack.handler.c10k)

(defun method-keyword (method)
  "METHOD as a keyword. c10k gives the usual ones as keywords; another is
found among the keywords that exist (an application that tests for
:PROPFIND has interned it), else left a string, so that clients cannot
intern symbols at will."
  (if (stringp method)
      (or (find-symbol method :keyword) method)
      method))

(eval-when (:compile-toplevel :load-toplevel :execute)
  (defparameter *usual-header-names*
    (coerce '("host" "user-agent" "accept" "accept-encoding" "accept-language" "connection"
              "content-type" "content-length" "transfer-encoding" "cookie" "referer" "origin"
              "cache-control" "pragma" "authorization" "upgrade" "if-none-match"
              "if-modified-since" "x-forwarded-for" "x-forwarded-proto" "x-real-ip"
              "x-requested-with" "sec-websocket-key" "sec-websocket-version"
              "sec-websocket-protocol" "sec-websocket-extensions" "sec-fetch-site"
              "sec-fetch-mode" "sec-fetch-dest" "sec-fetch-user" "upgrade-insecure-requests"
              "dnt" "te" "range" "expect" "keep-alive")
            'simple-vector)
    "Lower-case header names shared by every request's table instead of made
anew: those browsers, proxies and clients send most."))

(defvar *recent-values*
  (make-array (+ 2 (length *usual-header-names*)) :initial-element nil)
  "The last value of each usual header, then the last server name and
client address, shared by the next requests with the same bytes (see
C10K::VIEW-STRING-SHARED).")

(defconstant +recent-server-name+ 36 "The slot of the server name in *RECENT-VALUES*.")
(defconstant +recent-remote-addr+ 37 "The slot of the client address in *RECENT-VALUES*.")
(assert (= +recent-server-name+ (length *usual-header-names*)))

(defun header-name (pointer length)
  "The header name at POINTER (LENGTH bytes) in lower case, and its index
in *USUAL-HEADER-NAMES* if it is one of them (then it is that string),
else a new string and NIL."
  (declare (optimize speed) (type sb-sys:system-area-pointer pointer) (type fixnum length))
  (flet ((lower (i)
           (let ((byte (sb-sys:sap-ref-8 pointer i)))
             (if (<= 65 byte 90) (+ byte 32) byte))))
    (let ((index (position-if (lambda (name)
                                (declare (simple-string name))
                                (and (= length (length name))
                                     (dotimes (i length t)
                                       (unless (= (lower i) (char-code (schar name i)))
                                         (return nil)))))
                              (the simple-vector *usual-header-names*))))
      (if index
          (values (svref *usual-header-names* index) index)
          (let ((name (c10k::view-string pointer length)))
            (values (if (every (lambda (c) (< (char-code c) 128)) name)
                        (dotimes (i length name)
                          (setf (schar name i) (code-char (lower i))))
                        (string-downcase name))
                    nil))))))

(eval-when (:compile-toplevel :load-toplevel :execute)
  (defun usual-index (name)
    "The index of NAME in *USUAL-HEADER-NAMES*."
    (position name *usual-header-names* :test #'string=)))

(defun header-table (request)
  "REQUEST's header fields as an EQUAL hash table from lower-case names to
values, a repeated field's values joined with \", \"; then the values of
Content-Type, Content-Length and Transfer-Encoding (or NIL)."
  (let ((table (make-hash-table :test 'equal))
        (pointer (c10k::live-pointer request))
        (seen 0)                        ; a bit per usual name met
        (content-type nil) (content-length nil) (transfer-encoding nil))
    (declare (type (unsigned-byte 62) seen))
    (cffi:with-foreign-objects ((name :pointer) (name-length :size)
                                (value :pointer) (value-length :size))
      (dotimes (i (c10k::info-slot (c10k::live-info request) c10k.ffi:header-count))
        (c10k::check (c10k.ffi:c10k-request-header-at pointer i name name-length
                                                      value value-length)
                     "c10k_request_header_at")
        (multiple-value-bind (key index)
            (header-name (cffi:mem-ref name :pointer) (cffi:mem-ref name-length :size))
          (let* ((bytes (cffi:mem-ref value :pointer))
                 (length (cffi:mem-ref value-length :size))
                 (text (if index
                           (c10k::view-string-shared *recent-values* index bytes length)
                           (c10k::view-string bytes length)))
                 ;; A usual name not met yet has no value to join with.
                 (previous (and (or (null index) (logbitp index seen)) (gethash key table)))
                 (joined (if previous (concatenate 'string previous ", " text) text)))
            (setf (gethash key table) joined)
            (when index
              (setf seen (logior seen (ash 1 index)))
              (case index
                (#.(usual-index "content-type") (setf content-type joined))
                (#.(usual-index "content-length") (setf content-length joined))
                (#.(usual-index "transfer-encoding") (setf transfer-encoding joined))))))))
    (values table content-type content-length transfer-encoding)))

(defun decoded-path (path)
  "PATH percent-decoded (UTF-8); PATH itself if it is malformed."
  (if (let ((path path))
        (declare (simple-string path) (optimize speed))
        (find #\% path))
      (handler-case (c10k:url-decode path)
        (c10k:c10k-error () path))
      path))

(defun request-uri (request)
  "REQUEST's target in origin-form, \"/path?query\", as Clack's
:REQUEST-URI is: the target as sent, unless it is in absolute-form, then
the URI's path and query."
  (if (eq (c10k:request-target-form request) :absolute)
      (let ((query (c10k:request-query request)))
        (if query
            (concatenate 'string (c10k:request-path request) "?" query)
            (c10k:request-path request)))
      (c10k:request-target request)))

(defun path-info (request uri)
  "REQUEST's decoded path; URI itself when that is the path already (no
query, nothing to decode), the usual case."
  (let ((path (if (and (null (c10k:request-query request))
                       (eq (c10k:request-target-form request) :origin))
                  (setf (c10k::%request-path request) uri)
                  (c10k:request-path request))))
    (decoded-path path)))

(defun server-name-and-port (request local-address)
  "The server's name and port: those of the host the request is for (an
absolute-form target's, else Host's), else of LOCAL-ADDRESS, the server's
\"host:port\"."
  (let ((host (let ((info (c10k::live-info request)))
                (unless (cffi:null-pointer-p (c10k::info-slot info c10k.ffi:host))
                  (setf (c10k::%request-host request)
                        (c10k::view-string-shared *recent-values* +recent-server-name+
                                                  (c10k::info-slot info c10k.ffi:host)
                                                  (c10k::info-slot info c10k.ffi:host-len)))))))
    (if host
        (values (if (and (plusp (length host)) (char= (char host 0) #\[))
                    (string-trim "[]" host)
                    host)
                (or (c10k:request-port request)
                    (if (equal (c10k:request-scheme request) "https") 443 80)))
        (multiple-value-bind (name port) (c10k::split-address local-address)
          (values name (or port 80))))))

(defun make-env (request raw-body local-address)
  "The environment of REQUEST for an application, RAW-BODY its body stream,
and whether a body follows (as C10K:REQUEST-HAS-BODY-P). The server is
named by the host the request is for, else by LOCAL-ADDRESS. :C10K.REQUEST
is the C10K:REQUEST itself (WebSockets accept it)."
  (multiple-value-bind (headers content-type length transfer-encoding) (header-table request)
    (let ((uri (request-uri request)))
      (multiple-value-bind (server-name server-port) (server-name-and-port request local-address)
        (multiple-value-bind (remote-addr remote-port)
            (c10k::request-remote request *recent-values* +recent-remote-addr+)
          (values
           (list :request-method (method-keyword (c10k:request-method request))
                 :script-name ""
                 :path-info (path-info request uri)
                 :query-string (c10k:request-query request)
                 :server-name server-name
                 :server-port server-port
                 :server-protocol (if (eql 0 (c10k:request-http-minor request))
                                      :http/1.0
                                      :http/1.1)
                 :request-uri uri
                 :url-scheme :http
                 :remote-addr remote-addr
                 :remote-port remote-port
                 :content-type content-type
                 :content-length (and length (parse-integer length :junk-allowed t))
                 :headers headers
                 :raw-body raw-body
                 :clack.streaming t
                 :c10k.request request)
           (c10k::announces-body-p length transfer-encoding)))))))
